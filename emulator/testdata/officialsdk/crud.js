// Drives the official JS SDK (minapp-sdk, unchanged) against the
// emulator: node crud.js SDK_BUILD_JS HOST CLIENT_ID web|wechat, where the
// build is lib/web.js (a browser: xhr.js gives it one) or lib/index.js (a
// WeChat mini-program: wx.js gives it one). Prints one JSON object with
// what the SDK returned; the Go test compares it with the emulator's own
// view of the table (srv.Table).
'use strict';
require(process.argv[5] === 'wechat' ? './wx.js' : './xhr.js');
const BaaS = require(process.argv[2]);
BaaS.init(process.argv[4], { host: process.argv[3] });

async function main() {
  const out = {};
  const Product = new BaaS.TableObject('product');

  // create().set().save() and createMany
  const a = Product.create();
  a.set({ name: 'apple', price: 3, n: 0, tags: ['fruit'] });
  out.created = (await a.save()).data;
  const many = await Product.createMany([
    { name: 'pear', price: 5, n: 0 },
    { name: 'plum', price: 8, n: 0 },
  ]);
  out.createMany = many.data;

  // find with a where, ordered, with the count
  const q = new BaaS.Query();
  q.compare('price', '>=', 5);
  const found = await Product.setQuery(q).orderBy('-price').limit(10).find({ withCount: true });
  out.found = found.data;

  // update with incrementBy (and set) on one record
  const r = Product.getWithoutData(out.created.id);
  r.incrementBy('n', 2);
  r.set('name', 'green apple');
  out.updated = (await r.update()).data;

  // get, delete, count
  out.got = (await Product.get(out.created.id)).data;
  const plum = out.found.objects.find((o) => o.name === 'plum');
  out.deleted = (await Product.delete(plum.id)).data;
  out.count = await Product.count();

  // an HError from the emulator reaches the caller as the SDK's error
  try {
    await Product.get('000000000000000000000000');
  } catch (e) {
    out.missing = { code: e.code, message: e.message };
  }
  // a 605 is raised before anything is sent
  try {
    Product.setQuery('not a query');
  } catch (e) {
    out.badQuery = { code: e.code };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(`failed: ${e && (e.stack || e.message || JSON.stringify(e))}\n`);
  process.exit(1);
});
