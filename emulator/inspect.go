package emulator

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultInspectAddr is where Node's inspector listens by default, as
// node --inspect does.
const DefaultInspectAddr = "127.0.0.1:9229"

// Node's defaults for what an --inspect value leaves out, and the ports
// it takes besides 0 (node: "must be 0 or in range 1024 to 65535").
const (
	inspectDefaultHost = "127.0.0.1"
	inspectDefaultPort = 9229
	inspectMinPort     = 1024
	inspectMaxPort     = 65535
)

// inspectDeadline stands for "no deadline" while a debugger may hold a
// job at a breakpoint: a day, longer than anyone stays paused.
const inspectDeadline = 24 * time.Hour

// WithInspect runs the JavaScript functions under Node's inspector,
// listening on addr once the first function runs: in one Node process, so
// that one debugger target sees every call, and without deadlines, so
// that a job held at a breakpoint is not killed (as the Firebase emulator
// does). Calls then run one at a time: a function that calls another
// synchronously waits for it forever. Breakpoints set in a bundled
// function's own files (TypeScript too) hold through its inline source
// map.
//
// addr is read as node --inspect reads it: [HOST:]PORT, or a HOST alone
// (port 9229); HOST is 127.0.0.1 when left out, an IPv6 address goes in
// brackets ([::1]:9229), and PORT is from 1024 to 65535 (see
// [DefaultInspectAddr]). [Listen] refuses another form, port 0 (Node
// would pick another port each time it starts the functions' process, and
// no debugger could be told where), and an address nothing can listen on
// at start: a host that is not this machine's or not known, or a port in
// use. [Server.InspectAddr] is the address it settled on.
func WithInspect(addr string) Option { return func(c *config) { c.inspect = addr } }

// InspectAddr is the host:port Node's inspector listens on under
// [WithInspect] once a function has run ("9230" is 127.0.0.1:9230, a host
// alone takes port 9229), or "" without the option.
func (s *Server) InspectAddr() string { return s.cfg.inspect }

// checkInspect refuses a WithInspect value Node would not listen on, and
// settles c.inspect to host:port. A value Node cannot parse makes every
// Node process exit at once (code 9), failing every call with a riddle;
// one it parses but cannot bind (a port in use, a host not known) only
// makes Node print a line and run without its inspector, so that nothing
// says the debugger will never attach.
func (c *config) checkInspect() error {
	if c.inspect == "" {
		return nil
	}
	host, port, err := parseInspect(c.inspect)
	if err != nil {
		return badOption("WithInspect", "%s", err)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if err := probeInspect(host, addr); err != nil {
		return badOption("WithInspect", "%s", err)
	}
	c.inspect = addr
	return nil
}

// inspectForm is what an --inspect value looks like, for the refusals.
const inspectForm = "[HOST:]PORT, e.g. 127.0.0.1:9229 or 9229, or a HOST alone for port 9229"

// parseInspect reads v as node --inspect does (its ParseHostPort): a
// number alone is a port; a bracketed IPv6 address or a name without a
// colon is a host; else HOST:PORT, an empty host being Node's default.
func parseInspect(v string) (host string, port int, err error) {
	rest := v
	switch {
	case strings.HasPrefix(v, "["):
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("the inspector's address %q has no closing ]: give %s", v, inspectForm)
		}
		host, rest = v[1:end], v[end+1:]
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return "", 0, fmt.Errorf("the inspector's address %q holds %q in brackets, which is not an IPv6 address: give %s", v, host, inspectForm)
		}
		if rest == "" {
			return host, inspectDefaultPort, nil
		}
		if rest[0] != ':' {
			return "", 0, fmt.Errorf("the inspector's address %q has %q after its host: give %s", v, rest, inspectForm)
		}
		rest = rest[1:]
	case allDigits(v):
		host = inspectDefaultHost
	case strings.Count(v, ":") == 0:
		return v, inspectDefaultPort, nil
	case strings.Count(v, ":") > 1:
		return "", 0, fmt.Errorf("the inspector's address %q has more than one colon: an IPv6 host goes in brackets, e.g. [::1]:9229; give %s", v, inspectForm)
	default:
		host, rest, _ = strings.Cut(v, ":")
		if host == "" {
			host = inspectDefaultHost
		}
	}
	if rest == "" {
		return "", 0, fmt.Errorf("the inspector's address %q has no port after its colon: give %s", v, inspectForm)
	}
	if !allDigits(rest) {
		return "", 0, fmt.Errorf("the inspector's port must be a number from %d to %d, not %q: give %s", inspectMinPort, inspectMaxPort, rest, inspectForm)
	}
	port, err = strconv.Atoi(rest)
	switch {
	case err == nil && port == 0:
		// Node takes 0 for a port of its choosing; the emulator may start
		// several Node processes in turn (one per function called, a new
		// one after a crash), each on another port, and could say none of
		// them ahead.
		return "", 0, fmt.Errorf("the inspector's port must be a number from %d to %d, not 0: Node would pick another port each time it starts the functions' process, and no debugger could be told where to attach; give a free port, e.g. %d", inspectMinPort, inspectMaxPort, inspectDefaultPort)
	case err != nil || port < inspectMinPort || port > inspectMaxPort:
		return "", 0, fmt.Errorf("the inspector's port must be a number from %d to %d, as Node takes it, not %s", inspectMinPort, inspectMaxPort, rest)
	}
	return host, port, nil
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// probeInspect listens on addr and closes at once, to refuse at start an
// address Node's inspector could not take: Node itself only binds it as
// it starts the first function's process, prints why it could not on its
// stderr and runs on without a debugger. It binds later, so a race
// remains: another program may take the port in between.
func probeInspect(host, addr string) error {
	network := "tcp" // a name: what it resolves to, as Node binds the first it can
	if ip := net.ParseIP(host); ip != nil {
		network = "tcp6"
		if ip.To4() != nil {
			network = "tcp4" // 0.0.0.0 is IPv4's alone, as Node binds it
		}
	}
	ln, err := net.Listen(network, addr)
	if err == nil {
		return ln.Close()
	}
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("the inspector cannot listen on %s: the address is in use (another debugger session, emulator or program listens there); give another port", addr)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("the inspector cannot listen on %s: no host %q is known here (%v); give %s, with a host of this machine", addr, host, dnsErr.Err, inspectForm)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("the inspector cannot listen on %s: %s is not an address of this machine; give %s, with a host of this machine", addr, host, inspectForm)
	}
	return fmt.Errorf("the inspector cannot listen on %s: %v", addr, err)
}

// deadlinesOffWhenInspecting lifts the job deadlines under WithInspect.
func (c *config) deadlinesOffWhenInspecting() {
	if c.inspect != "" {
		c.syncTimeout, c.asyncTimeout = inspectDeadline, inspectDeadline
	}
}

// workerCap is how many Node processes may run: one under the inspector
// (one port, one target), else one per job slot.
func (s *Server) workerCap() int {
	if s.cfg.inspect != "" {
		return 1
	}
	return s.cfg.maxJobs
}

// inspectArgs are the node flags WithInspect adds.
func (s *Server) inspectArgs() []string {
	if s.cfg.inspect == "" {
		return nil
	}
	return []string{"--inspect=" + s.cfg.inspect}
}
