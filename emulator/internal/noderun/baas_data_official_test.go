package noderun

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/internal/nodetest"
)

// sdkCalls are calls of the data API, each written once and run both by
// the official JS SDK and by a function's BaaS; T is a new
// TableObject('product'), Q is BaaS.Query.
var sdkCalls = []string{
	// §11, the reference's golden requests
	`await T.find()`,
	`await T.setQuery(new Q().compare('price','>',1)).orderBy(['-created_at','id']).select('-name').expand('ptr').limit(5).find({withCount:true})`,
	`await T.count()`,
	`await T.get('abc')`,
	`await T.create().set({a:1}).set('g', new BaaS.GeoPoint(1,2)).save()`,
	`await T.createMany([{a:1},{a:2}], {enableTrigger:false})`,
	`await T.getWithoutData('abc').incrementBy('n',-1).unset('old').update()`,
	`await T.limit(10).getWithoutData(new Q().contains('n','a')).set('s','x').update({withCount:true})`,
	`await T.delete(new Q().contains('n','a'), {enableTrigger:false})`,
	`await T.delete('abc')`,
	`await T.setQuery(new Q().matches('name', /^foo/i)).find()`,
	`await T.setQuery(Q.or(new Q().contains('n','a'), new Q().isNull('p'))).find()`,
	`await T.setQuery(new Q().withinRegion('loc', new BaaS.GeoPoint(1,2), 500)).find()`,
	// the other operators of §3.2, nested, and the builder
	`await T.setQuery(Q.and(new Q().in('a',[1,2]), Q.or(new Q().notIn('b',['x y']), new Q().arrayContains('c',[1])), new Q().exists(['d','e']), new Q().notExists('f'), new Q().isNotNull('g'), new Q().hasKey('h','k'))).find({withCount:true})`,
	`await T.setQuery(new Q().compare('a','=',1).compare('b','!=','x').compare('c','<',2).compare('d','<=',3).compare('e','>=',4)).find()`,
	`await T.setQuery(new Q().include('loc', new BaaS.GeoPoint(1,2)).within('loc', new BaaS.GeoPolygon([[0,0],[0,3],[3,3],[0,0]])).withinCircle('loc', new BaaS.GeoPoint(1,2), 3)).find()`,
	`await T.setQuery(new Q().compare('ptr','=', new BaaS.TableObject('o').getWithoutData('abc')).in('p2', [new BaaS.TableObject('o').getWithoutData('x'), 'y']).isNull(['m','n']).isNotNull(['m2']).exists('e2').matches('s', /a\/b/gu).matches('s2', new RegExp(''))).find()`,
	`await T.offset(5).limit(3).orderBy('-price').select(['a','b']).expand(['p','q']).find()`,
	// §4, every record operator
	`await T.getWithoutData('abc').set('x', 1).append('arr', [1]).uAppend('arr2', 2).remove('arr3', [3]).patchObject('obj', {a:1}).pop('arr4').shift('arr5').update()`,
	`await T.create().set('name','pen').set('tags',['a']).incrementBy('n', 2).save()`,
	`await T.createMany([{a:1}])`,
	`await BaaS.getServerDate()`,
	`await BaaS.getAsyncJobResult(7)`,
}

// officialSDKScript runs sdkCalls with the official SDK's browser build,
// asking GET /__call__/<i>/ before each so that the recorder can tell
// the calls apart.
const officialSDKScript = `'use strict'
require(process.argv[2])
const BaaS = require(process.argv[3])
BaaS.init('client-1', { host: process.argv[4] })
const calls = JSON.parse(process.argv[5])
const mark = (i) => new Promise((resolve) => {
  const x = new XMLHttpRequest()
  x.open('GET', process.argv[4] + '/__call__/' + i + '/')
  x.onloadend = resolve
  x.send(null)
})
;(async () => {
  for (let i = 0; i < calls.length; i++) {
    await mark(i)
    const T = new BaaS.TableObject('product')
    const Q = BaaS.Query
    try { await (new Function('T', 'Q', 'BaaS', 'return (async () => {' + calls[i] + '})()'))(T, Q, BaaS) } catch (e) {}
  }
})()
`

// TestDataRequestsAreTheOfficialSDKs: each call sends, from a function,
// the very requests (method, path and query, body) the official JS SDK
// (minapp-sdk, its browser build, unchanged) sends for it: byte for byte,
// as issue 15 asks, checked against the real package rather than against
// vectors written by hand.
func TestDataRequestsAreTheOfficialSDKs(t *testing.T) {
	node := nodetest.Need(t)
	web := filepath.Join(nodetest.MinappSDK(t), "lib", "web.js")
	p := newPlatform(t)

	// The official SDK, in Node, with a browser's XMLHttpRequest.
	shim, err := filepath.Abs(filepath.Join("..", "..", "testdata", "officialsdk", "xhr.js"))
	require.NoError(t, err)
	script := filepath.Join(t.TempDir(), "calls.js")
	require.NoError(t, os.WriteFile(script, []byte(officialSDKScript), 0o600))
	callsJSON, err := json.Marshal(sdkCalls)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, script, shim, web, p.srv.URL, string(callsJSON)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	official := make([][]wire, len(sdkCalls))
	i := -1
	for _, r := range p.take() {
		if strings.HasPrefix(r.URI, "/__call__/") {
			i++
			continue
		}
		require.GreaterOrEqual(t, i, 0, "a request before the first call: %+v", r)
		official[i] = append(official[i], wire{r.Method, r.URI, r.Body})
	}
	require.Equal(t, len(sdkCalls)-1, i, "every call was reached")

	// The same calls from a function.
	pool := dataPool(t, p)
	for i, js := range sdkCalls {
		runData(t, pool, "call"+string(rune('a'+i)), js)
		var ours []wire
		for _, r := range p.take() {
			ours = append(ours, wire{r.Method, r.URI, r.Body})
		}
		require.NotEmpty(t, official[i], "the official SDK sent nothing for %s", js)
		assert.Equal(t, official[i], ours, "%s", js)
	}
}
