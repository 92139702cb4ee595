package datastore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// The SQL functions the where compiler uses beyond SQLite's own: regular
// expressions and geometry, in Go.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("mc_regexp", 2, sqlRegexp)
	sqlite.MustRegisterDeterministicScalarFunction("mc_geo_within", 2, sqlGeoWithin)
	sqlite.MustRegisterDeterministicScalarFunction("mc_geo_contains", 3, sqlGeoContains)
	sqlite.MustRegisterDeterministicScalarFunction("mc_geo_dist", 3, sqlGeoDist)
}

// compileRegex turns a $regex and its $options into a Go pattern. JS
// flags g, y and u mean nothing to a match and are accepted and ignored
// (§10.9); i, m and s keep their meaning; anything else is refused.
func compileRegex(pat, flags string) (string, error) {
	goFlags := ""
	for _, f := range flags {
		switch f {
		case 'i', 'm', 's':
			if !strings.ContainsRune(goFlags, f) {
				goFlags += string(f)
			}
		case 'g', 'y', 'u':
		default:
			return "", fmt.Errorf("$options %q: unknown flag %q (use i, m, s; g, y, u are ignored)", flags, f)
		}
	}
	if goFlags != "" {
		pat = "(?" + goFlags + ")" + pat
	}
	if _, err := regexp.Compile(pat); err != nil {
		return "", fmt.Errorf("$regex %q does not compile: %v", pat, err)
	}
	return pat, nil
}

// regexCache keeps compiled patterns; it is dropped whole past its cap.
var regexCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

func cachedRegexp(pat string) (*regexp.Regexp, error) {
	regexCache.Lock()
	defer regexCache.Unlock()
	if re, ok := regexCache.m[pat]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, err
	}
	if regexCache.m == nil || len(regexCache.m) >= 256 {
		regexCache.m = map[string]*regexp.Regexp{}
	}
	regexCache.m[pat] = re
	return re, nil
}

func sqlRegexp(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	pat, _ := args[0].(string)
	s, ok := args[1].(string)
	if !ok {
		return int64(0), nil
	}
	re, err := cachedRegexp(pat)
	if err != nil {
		return nil, err
	}
	if re.MatchString(s) {
		return int64(1), nil
	}
	return int64(0), nil
}

// geometry is a GeoJSON Point or Polygon.
type geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

func parsePoint(v any) (lng, lat float64, ok bool) {
	var g geometry
	switch x := v.(type) {
	case string:
		if json.Unmarshal([]byte(x), &g) != nil {
			return 0, 0, false
		}
	case []byte:
		if json.Unmarshal(x, &g) != nil {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	var c []float64
	if g.Type != "Point" || json.Unmarshal(g.Coordinates, &c) != nil || len(c) != 2 {
		return 0, 0, false
	}
	return c[0], c[1], true
}

func parsePolygon(s string) ([][2]float64, bool) {
	var g geometry
	if json.Unmarshal([]byte(s), &g) != nil || g.Type != "Polygon" {
		return nil, false
	}
	var rings [][][2]float64
	if json.Unmarshal(g.Coordinates, &rings) != nil || len(rings) == 0 || len(rings[0]) < 4 {
		return nil, false
	}
	return rings[0], true
}

// inRing is the even-odd rule on the plane of (lng, lat), which is how
// small regions behave.
func inRing(ring [][2]float64, lng, lat float64) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		xi, yi, xj, yj := ring[i][0], ring[i][1], ring[j][0], ring[j][1]
		if (yi > lat) != (yj > lat) && lng < (xj-xi)*(lat-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

func sqlGeoWithin(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	lng, lat, ok := parsePoint(args[0])
	poly, _ := args[1].(string)
	ring, ok2 := parsePolygon(poly)
	if !ok || !ok2 {
		return int64(0), nil
	}
	return b2i(inRing(ring, lng, lat)), nil
}

func sqlGeoContains(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	poly, _ := args[0].(string)
	ring, ok := parsePolygon(poly)
	lng, ok2 := toFloat(args[1])
	lat, ok3 := toFloat(args[2])
	if !ok || !ok2 || !ok3 {
		return int64(0), nil
	}
	return b2i(inRing(ring, lng, lat)), nil
}

// sqlGeoDist is the great-circle distance in metres; NULL when the field
// is not a point.
func sqlGeoDist(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	lng, lat, ok := parsePoint(args[0])
	lng2, ok2 := toFloat(args[1])
	lat2, ok3 := toFloat(args[2])
	if !ok || !ok2 || !ok3 {
		return nil, nil
	}
	return haversine(lng, lat, lng2, lat2), nil
}

func haversine(lng1, lat1, lng2, lat2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dlat, dlng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlng/2)*math.Sin(dlng/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

func toFloat(v driver.Value) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// geo compiles the geo operators (§3.2, §3.4; GeoJSON, longitude first).
func (c *compiler) geo(name, op string, v any) (string, error) {
	x, typ := jsonExtract(name), jsonType(name)
	obj, ok := v.(map[string]any)
	if !ok {
		return "", badRequest("Invalid where on %s: %s needs an object, not %s.", name, op, describe(v))
	}
	b, _ := json.Marshal(obj)
	switch op {
	case "$intersects":
		lng, lat, ok := parsePoint(string(b))
		if !ok {
			return "", badRequest(`Invalid where on %s: $intersects needs a point {"type":"Point","coordinates":[lng,lat]}.`, name)
		}
		return fmt.Sprintf("%s = 'object' AND mc_geo_contains(%s, %s, %s)", typ, x, c.arg(lng), c.arg(lat)), nil
	case "$within":
		if _, ok := parsePolygon(string(b)); !ok {
			return "", badRequest(`Invalid where on %s: $within needs a closed polygon {"type":"Polygon","coordinates":[[[lng,lat],…]]} of at least 4 points.`, name)
		}
		return fmt.Sprintf("%s = 'object' AND mc_geo_within(%s, %s)", typ, x, c.arg(string(b))), nil
	case "$center":
		var p struct {
			Radius      *float64  `json:"radius"`
			Coordinates []float64 `json:"coordinates"`
		}
		if json.Unmarshal(b, &p) != nil || p.Radius == nil || len(p.Coordinates) != 2 {
			return "", badRequest(`Invalid where on %s: $center needs {"radius": km, "coordinates": [lng,lat]}.`, name)
		}
		return fmt.Sprintf("mc_geo_dist(%s, %s, %s) <= %s", x, c.arg(p.Coordinates[0]), c.arg(p.Coordinates[1]), c.arg(*p.Radius*1000)), nil
	case "$nearsphere":
		var p struct {
			Geometry    json.RawMessage `json:"geometry"`
			MinDistance *float64        `json:"min_distance"`
			MaxDistance *float64        `json:"max_distance"`
		}
		if json.Unmarshal(b, &p) != nil {
			return "", badRequest("Invalid where on %s: $nearsphere needs {geometry, min_distance, max_distance}.", name)
		}
		lng, lat, ok := parsePoint(string(p.Geometry))
		if !ok {
			return "", badRequest(`Invalid where on %s: $nearsphere needs a geometry {"type":"Point","coordinates":[lng,lat]}.`, name)
		}
		d := fmt.Sprintf("mc_geo_dist(%s, %s, %s)", x, c.arg(lng), c.arg(lat))
		expr := d + " IS NOT NULL"
		if p.MinDistance != nil {
			expr += fmt.Sprintf(" AND mc_geo_dist(%s, %s, %s) >= %s", x, c.arg(lng), c.arg(lat), c.arg(*p.MinDistance))
		}
		if p.MaxDistance != nil && *p.MaxDistance > 0 {
			expr += fmt.Sprintf(" AND mc_geo_dist(%s, %s, %s) <= %s", x, c.arg(lng), c.arg(lat), c.arg(*p.MaxDistance))
		}
		c.w.near = &nearSort{field: name, lng: lng, lat: lat}
		return expr, nil
	}
	return "", badRequest("Invalid where on %s: unknown operator %s.", name, op)
}
