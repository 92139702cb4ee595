package emulator_test

import (
	"fmt"
	"log"

	"github.com/mincloud-go/baas/emulator"
)

// A Go test seeds a table, then reads what a function (or any client of
// the Web API) would see, with a where in the platform's JSON.
func ExampleServer_Table() {
	srv := emulator.New()
	defer srv.Close()
	err := srv.LoadSchema([]byte(`{"name":"product","row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":["user:*"],
		"schema":{"fields":[{"name":"name","type":"string"},{"name":"price","type":"integer"}]}}`))
	if err != nil {
		log.Fatal(err)
	}
	products := srv.Table("product")
	if _, err := products.Insert(
		map[string]any{"name": "pen", "price": 3},
		map[string]any{"name": "book", "price": 12},
		map[string]any{"name": "bag", "price": 40},
	); err != nil {
		log.Fatal(err)
	}
	cheap, err := products.Find(`{"$and":[{"price":{"$lt":20}}]}`)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range cheap {
		fmt.Println(p["name"], p["price"])
	}
	// A value of the wrong type is refused, as the platform does.
	_, err = products.Insert(map[string]any{"price": "cheap"})
	fmt.Println(err)
	// Output:
	// book 12
	// pen 3
	// record 0: Failed to save record, type conflict on fields: price (integer).
}
