package envconf

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadTrimsAndLeavesUnsetEmpty(t *testing.T) {
	t.Setenv(ClientID, " app-id\n")
	t.Setenv(Host, "http://127.0.0.1:8080")
	t.Setenv(EnvID, "")
	t.Setenv(AuthToken, "")
	t.Setenv(ClientSecret, "\ts3cret ")
	assert.Equal(t, Values{ClientID: "app-id", Host: "http://127.0.0.1:8080", ClientSecret: "s3cret"}, Read())
}
