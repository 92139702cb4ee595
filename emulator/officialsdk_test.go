package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// TestOfficialJSSDKUnchanged runs the official JS SDK (npm minapp-sdk),
// unchanged, in Node, pointed at the emulator with BaaS.init(clientID,
// {host}): its browser build (testdata/officialsdk/xhr.js gives it a
// window, localStorage and an XMLHttpRequest over node:http, nothing more)
// and its mini-program build (wx.js gives it wx.request and storage as
// WeChat documents them, and regenerator-runtime as WeChat's base library
// does). Each creates, createMany, finds with a where and the count,
// updates with incrementBy, gets, deletes, counts and meets an HError; what
// it read is compared with the table as Go sees it through srv.Table.
func TestOfficialJSSDKUnchanged(t *testing.T) {
	node := nodetest.Need(t)
	sdk := nodetest.MinappSDK(t)
	for _, build := range []struct{ runtime, file string }{{"web", "web.js"}, {"wechat", "index.js"}} {
		t.Run(build.runtime, func(t *testing.T) {
			t.Parallel()
			officialSDKCRUD(t, node, sdk, build.runtime, filepath.Join(sdk, "lib", build.file))
		})
	}
}

func officialSDKCRUD(t *testing.T, node, sdk, runtime, buildJS string) {
	srv := emulator.New()
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "officialsdk", "crud.js"), buildJS, srv.URL, srv.ClientID, runtime)
	cmd.Env = append(os.Environ(), "MINAPP_REGENERATOR="+filepath.Join(filepath.Dir(sdk), "regenerator-runtime"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	var out struct {
		Created    map[string]any `json:"created"`
		CreateMany struct {
			Succeed    int `json:"succeed"`
			TotalCount int `json:"total_count"`
		} `json:"createMany"`
		Found struct {
			Meta    map[string]any   `json:"meta"`
			Objects []map[string]any `json:"objects"`
		} `json:"found"`
		Updated map[string]any `json:"updated"`
		Got     map[string]any `json:"got"`
		Count   int            `json:"count"`
		Missing struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"missing"`
		BadQuery struct {
			Code int `json:"code"`
		} `json:"badQuery"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())

	tbl := srv.Table("product")
	id, _ := out.Created["id"].(string)
	require.Len(t, id, 24, "create().save() answered %v", out.Created)
	assert.Equal(t, 2, out.CreateMany.Succeed)

	// find: price >= 5, newest... ordered by -price, with the total count
	require.Len(t, out.Found.Objects, 2)
	assert.Equal(t, "plum", out.Found.Objects[0]["name"])
	assert.Equal(t, "pear", out.Found.Objects[1]["name"])
	assert.EqualValues(t, 2, out.Found.Meta["total_count"])

	// update with incrementBy: the SDK's answer and Go's view agree
	assert.EqualValues(t, 2, out.Updated["n"])
	assert.Equal(t, "green apple", out.Got["name"])
	rec, err := tbl.Get(id)
	require.NoError(t, err)
	assert.Equal(t, "2", fmt.Sprint(rec["n"]), "Go reads the SDK's incrementBy")
	assert.Equal(t, "green apple", rec["name"])
	assert.Equal(t, []any{"fruit"}, rec["tags"])

	// delete and count
	plum, err := tbl.Find(`{"name":{"$eq":"plum"}}`)
	require.NoError(t, err)
	assert.Empty(t, plum, "the SDK's delete removed plum")
	goFound, err := tbl.Find(`{"price":{"$gte":5}}`)
	require.NoError(t, err)
	require.Len(t, goFound, 1, "Go sees the SDK's where match less the deleted plum")
	assert.Equal(t, out.Found.Objects[1]["id"], goFound[0]["id"])
	n, err := tbl.Count("")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, n, out.Count, "the SDK's count() equals Go's")

	// errors as the SDK reports them
	assert.Equal(t, 404, out.Missing.Code, out.Missing.Message)
	assert.Equal(t, 605, out.BadQuery.Code)
}
