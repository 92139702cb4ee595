package emulator_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/emulator/bundle"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// cdp is a minimal client of the Chrome DevTools Protocol over a
// WebSocket, enough to do what a debugger does: enable the debugger, set
// a breakpoint, see where the function paused, resume.
type cdp struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	id   int
}

type cdpMsg struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func dialCDP(t *testing.T, wsURL string) *cdp {
	t.Helper()
	u, err := url.Parse(wsURL)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(60*time.Second)))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", u.RequestURI(), u.Host)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	return &cdp{t: t, conn: conn, r: r}
}

// send writes one masked text frame, as a client must.
func (c *cdp) send(method string, params any) int {
	c.t.Helper()
	c.id++
	payload, err := json.Marshal(map[string]any{"id": c.id, "method": method, "params": params})
	require.NoError(c.t, err)
	hdr := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	mask := []byte{1, 2, 3, 4}
	hdr = append(hdr, mask...)
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	_, err = c.conn.Write(append(hdr, payload...))
	require.NoError(c.t, err)
	return c.id
}

// next reads the next message, joining fragments and skipping control
// frames.
func (c *cdp) next() cdpMsg {
	c.t.Helper()
	var data []byte
	for {
		var h [2]byte
		_, err := io.ReadFull(c.r, h[:])
		require.NoError(c.t, err)
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			_, err = io.ReadFull(c.r, b[:])
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			_, err = io.ReadFull(c.r, b[:])
			n = binary.BigEndian.Uint64(b[:])
		}
		require.NoError(c.t, err)
		p := make([]byte, n)
		_, err = io.ReadFull(c.r, p)
		require.NoError(c.t, err)
		if h[0]&0x0f >= 8 { // ping, pong, close
			continue
		}
		data = append(data, p...)
		if h[0]&0x80 != 0 {
			var m cdpMsg
			require.NoError(c.t, json.Unmarshal(data, &m))
			return m
		}
	}
}

// until reads messages until one matches, handing each to seen.
func (c *cdp) until(match func(cdpMsg) bool, seen func(cdpMsg)) cdpMsg {
	c.t.Helper()
	for {
		m := c.next()
		if seen != nil {
			seen(m)
		}
		if match(m) {
			return m
		}
	}
}

func TestJSInspectBreakpointsLandOnTheOriginalLines(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))

	dir := t.TempDir()
	write(t, filepath.Join(dir, "lib.ts"), "export const twice = (n: number): number => n * 2\n")
	write(t, filepath.Join(dir, "calc.ts"), `import { twice } from './lib'

type Ev = { data: { n: number } }

export const main = async (event: Ev) => {
  const doubled: number = twice(event.data.n)
  return doubled + 1
}
`)
	srv, c := setup(t, emulator.WithInspect(addr))
	_, err := srv.LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, `{"code":0,"data":5,"error":{}}`, call(t, c, "calc", map[string]int{"n": 2}))

	resp, err := http.Get("http://" + addr + "/json/list")
	require.NoError(t, err)
	var targets []struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&targets))
	resp.Body.Close()
	require.Len(t, targets, 1)

	d := dialCDP(t, targets[0].WebSocketDebuggerURL)
	// Enabling the debugger reports the scripts loaded so far: the
	// bundle is one, with its source map.
	var script struct {
		ScriptID     string `json:"scriptId"`
		URL          string `json:"url"`
		SourceMapURL string `json:"sourceMapURL"`
	}
	enable := d.send("Debugger.enable", map[string]any{})
	d.until(func(m cdpMsg) bool { return m.ID == enable }, func(m cdpMsg) {
		if m.Method != "Debugger.scriptParsed" {
			return
		}
		var s = script
		require.NoError(t, json.Unmarshal(m.Params, &s))
		if strings.HasSuffix(s.URL, "/calc.js") {
			script = s
		}
	})
	require.NotEmpty(t, script.URL, "the bundle was parsed")
	require.True(t, strings.HasPrefix(script.SourceMapURL, "data:application/json;base64,"), "the debugger gets the inline source map")

	// The debugger's part: where in the bundle is calc.ts line 6?
	b, err := bundle.Build(dir, "calc", filepath.Join(dir, "calc.ts"))
	require.NoError(t, err)
	sm, err := bundle.ParseInline(b.Code)
	require.NoError(t, err)
	genLine := 0
	for i := 1; i <= strings.Count(string(b.Code), "\n"); i++ {
		if p, ok := sm.Lookup(i, 1); ok && p.Source == "calc.ts" && p.Line == 6 {
			genLine = i
			break
		}
	}
	require.NotZero(t, genLine, "calc.ts:6 is in the bundle")
	bp := d.send("Debugger.setBreakpointByUrl", map[string]any{"url": script.URL, "lineNumber": genLine - 1})
	m := d.until(func(m cdpMsg) bool { return m.ID == bp }, nil)
	require.Empty(t, m.Error)

	// A call stops there; the deadline does not end it while it waits.
	done := make(chan *baas.Result, 1)
	go func() {
		res, err := c.Invoke(context.Background(), "calc", map[string]int{"n": 20}, true)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	paused := d.until(func(m cdpMsg) bool { return m.Method == "Debugger.paused" }, nil)
	var p struct {
		CallFrames []struct {
			Location struct {
				ScriptID     string `json:"scriptId"`
				LineNumber   int    `json:"lineNumber"`
				ColumnNumber int    `json:"columnNumber"`
			} `json:"location"`
		} `json:"callFrames"`
	}
	require.NoError(t, json.Unmarshal(paused.Params, &p))
	require.NotEmpty(t, p.CallFrames)
	loc := p.CallFrames[0].Location
	assert.Equal(t, script.ScriptID, loc.ScriptID)
	at, ok := sm.Lookup(loc.LineNumber+1, loc.ColumnNumber+1)
	require.True(t, ok)
	assert.Equal(t, "calc.ts", at.Source)
	assert.Equal(t, 6, at.Line, "paused on the original line")
	d.send("Debugger.resume", map[string]any{})
	select {
	case res := <-done:
		require.NotNil(t, res)
		assert.Equal(t, "41", string(res.Data))
	case <-time.After(60 * time.Second):
		t.Fatal("the call did not end after resuming")
	}
}
