package managetests_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/manage"
)

func TestJobLogFromTheHistory(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	fns := manage.New(c)
	ctx := context.Background()
	run, err := fns.Debug(ctx, "helloWorld", map[string]string{"name": "log"})
	require.NoError(t, err)

	j, err := fns.Job(ctx, "helloWorld", run.JobID)
	require.NoError(t, err)
	assert.Equal(t, run.JobID, j.ID)

	log, err := fns.JobLog(ctx, "helloWorld", run.JobID)
	require.NoError(t, err)
	assert.Equal(t, run.Log+"\n", log, "the log the history links to is the debug run's log")
	assert.Contains(t, log, "WARN second")

	_, err = fns.JobLog(ctx, "helloWorld", run.JobID+1000)
	assert.True(t, errors.Is(err, &baas.HError{Code: 404}), "%v", err)
}

func TestReadLogElsewhereSendsNoToken(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	var auth []string
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		if r.URL.Path == "/missing" {
			http.Error(w, "no such object", http.StatusForbidden)
			return
		}
		w.Write([]byte("2026-01-01T00:00:00Z INFO hi\n"))
	}))
	t.Cleanup(storage.Close)
	fns := manage.New(c)

	log, err := fns.ReadLog(context.Background(), &manage.Job{ID: 1, UserLogURL: storage.URL + "/log?sig=x"})
	require.NoError(t, err)
	assert.Equal(t, "2026-01-01T00:00:00Z INFO hi\n", log)

	_, err = fns.ReadLog(context.Background(), &manage.Job{ID: 1, UserLogURL: storage.URL + "/missing"})
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusForbidden, he.Code)
	assert.Contains(t, he.Message, "no such object")
	assert.Equal(t, []string{"", ""}, auth, "the access token stays on the API host")

	_, err = fns.ReadLog(context.Background(), &manage.Job{ID: 2})
	assert.True(t, errors.Is(err, &baas.HError{Code: 404}), "%v", err)
	_, err = fns.ReadLog(context.Background(), &manage.Job{ID: 3, UserLogURL: "ftp://x/y"})
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Message, "not an http(s) URL")
}
