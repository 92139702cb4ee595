package emulator

// traceIDOf returns the trace id of a W3C traceparent header,
// "<version>-<trace id>-<parent id>-<flags>" in lowercase hex, so that a
// caller's trace can be followed into its job; "" when the header is
// absent or not one (an invalid trace context is ignored, as the W3C
// recommendation says).
func traceIDOf(traceparent string) string {
	const idEnd = 2 + 1 + 32 // version, dash, trace id
	h := traceparent
	if len(h) < 55 || h[2] != '-' || h[idEnd] != '-' || h[idEnd+17] != '-' ||
		!lowerHex(h[:2]) || h[:2] == "ff" || !lowerHex(h[3:idEnd]) || !lowerHex(h[idEnd+1:idEnd+17]) || !lowerHex(h[idEnd+18:idEnd+20]) {
		return ""
	}
	// Version 00 has exactly these fields; a later version may add some.
	if (h[:2] == "00" && len(h) != 55) || (len(h) > 55 && h[55] != '-') {
		return ""
	}
	id := h[3:idEnd]
	if id == "00000000000000000000000000000000" || h[idEnd+1:idEnd+17] == "0000000000000000" {
		return ""
	}
	return id
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
