package manage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/internal/clientinfo"
)

// maxLogBytes caps a job log read from its user_log_url: a log is a job's
// console lines, never near this, and a larger answer is not a log.
const maxLogBytes = 16 << 20

// Job returns the job id of the function name, found in its history (the
// Open API has no call for one job). A job not in the history is an
// *baas.HError 404.
func (s *Service) Job(ctx context.Context, name string, id int64) (*Job, error) {
	for j, err := range s.Jobs(ctx, name, JobFilter{PageSize: 100}) {
		if err != nil {
			return nil, err
		}
		if j.ID == id {
			return &j, nil
		}
		if j.ID < id {
			break // newest first, and ids only grow: id is not in the history
		}
	}
	return nil, &baas.HError{Code: http.StatusNotFound, Message: fmt.Sprintf("job %d of cloud function %q not found", id, name)}
}

// JobLog returns the log of job id of the function name, read from the
// job's user_log_url.
func (s *Service) JobLog(ctx context.Context, name string, id int64) (string, error) {
	j, err := s.Job(ctx, name, id)
	if err != nil {
		return "", err
	}
	return s.ReadLog(ctx, j)
}

// ReadLog reads the log at j.UserLogURL. A URL on the client's own host is
// read with the access token; one elsewhere (a storage link the platform
// signed) is read without it, so that the token never leaves the API host.
func (s *Service) ReadLog(ctx context.Context, j *Job) (string, error) {
	if j.UserLogURL == "" {
		return "", &baas.HError{Code: http.StatusNotFound, Message: fmt.Sprintf("job %d has no log (user_log_url is empty)", j.ID)}
	}
	u, err := url.Parse(j.UserLogURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &baas.HError{Code: baas.CodeBadParameter, Message: fmt.Sprintf("unexpected response: user_log_url of job %d is not an http(s) URL", j.ID)}
	}
	host, _ := url.Parse(clientinfo.Of(s.c).Host)
	if host != nil && strings.EqualFold(host.Scheme, u.Scheme) && strings.EqualFold(host.Host, u.Host) {
		resp, err := s.c.Do(ctx, baas.Request{Method: http.MethodGet, Path: u.EscapedPath(), Query: u.Query(), Name: "job log"})
		if err != nil {
			return "", err
		}
		return string(resp.Body), nil
	}
	return readForeignLog(ctx, u.String())
}

// foreignLogTimeout bounds reading a log off the API host, as the client's
// Open API calls are bounded by default.
const foreignLogTimeout = 30 * time.Second

// readForeignLog GETs a log from a host other than the API's, with no
// credentials, bounded by the client's API deadline and maxLogBytes.
func readForeignLog(ctx context.Context, u string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, foreignLogTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", &baas.HError{Code: baas.CodeBadParameter, Message: "cannot request the log: " + err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err // its text quotes the URL, whose query may be a signature
	}
	if err != nil {
		code := baas.CodeNetwork
		if errors.Is(err, context.DeadlineExceeded) {
			code = baas.CodeTimeout
		}
		return "", &baas.HError{Code: code, Message: "cannot read the job log: " + err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLogBytes+1))
	switch {
	case err != nil:
		return "", &baas.HError{Code: baas.CodeNetwork, StatusCode: resp.StatusCode, Message: "cannot read the job log: " + err.Error()}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return "", &baas.HError{Code: resp.StatusCode, StatusCode: resp.StatusCode,
			Message: fmt.Sprintf("the job log answered %s: %.200s", resp.Status, body)}
	case len(body) > maxLogBytes:
		return "", &baas.HError{Code: resp.StatusCode, StatusCode: resp.StatusCode,
			Message: fmt.Sprintf("unexpected response: the job log is larger than %d bytes", maxLogBytes)}
	}
	return string(body), nil
}
