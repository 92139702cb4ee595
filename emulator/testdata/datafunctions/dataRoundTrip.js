// dataRoundTrip creates, queries, updates and deletes records with the
// data API of the BaaS global, in the table event.data.table (default
// "e2e_product", which must start empty), and returns what it saw. On a
// fresh emulator (no schema: the table is created by its first write) it
// answers, for an end-to-end test to compare:
//
//   {"created":201,"createdName":"apple","createdMany":2,
//    "cheap":["apple","pear"],"cheapTotal":2,
//    "afterUpdate":{"price":13,"tags":["fruit","red"]},"orCount":2,
//    "bulkUpdated":2,"deleted":1,"left":[["apple",1],["plum",1]],
//    "near":["apple"],"deletedById":204,"finalCount":1,"notFound":404,
//    "badArgument":605}
exports.main = async function dataRoundTrip (event) {
  const products = new BaaS.TableObject((event.data && event.data.table) || 'e2e_product')
  const Query = BaaS.Query

  const created = await products.create()
    .set({ name: 'apple', price: 3, tags: ['fruit'], loc: new BaaS.GeoPoint(1, 2) })
    .save()
  const id = created.data.id
  const many = await products.createMany([
    { name: 'pear', price: 5, tags: [] },
    { name: 'plum', price: 8, tags: ['fruit'] }
  ])

  const cheap = await products.setQuery(new Query().compare('price', '<', 6)).orderBy('price').find({ withCount: true })

  await products.getWithoutData(id).incrementBy('price', 10).append('tags', 'red').update()
  const got = await products.select(['name', 'price', 'tags']).get(id)

  const orCount = await products
    .setQuery(Query.or(new Query().contains('name', 'pl'), new Query().compare('price', '>', 12)))
    .count()

  const bulk = await products.getWithoutData(new Query().arrayContains('tags', ['fruit']))
    .set('stock', 1)
    .update({ withCount: true })

  const deleted = await products.delete(new Query().compare('name', '=', 'pear'))
  const left = await products.orderBy('name').find()

  const near = await products.setQuery(new Query().withinCircle('loc', new BaaS.GeoPoint(1, 2), 1)).find()

  const deletedById = (await products.delete(id)).status
  const finalCount = await products.count()

  let notFound = null
  try {
    await products.get('000000000000000000000000')
  } catch (e) {
    notFound = e.code
  }
  let badArgument = null
  try {
    products.limit('ten')
  } catch (e) {
    badArgument = e.code
  }

  return {
    created: created.status,
    createdName: created.data.name,
    createdMany: many.data.succeed,
    cheap: cheap.data.objects.map(r => r.name),
    cheapTotal: cheap.data.meta.total_count,
    afterUpdate: { price: got.data.price, tags: got.data.tags },
    orCount,
    bulkUpdated: bulk.data.succeed,
    deleted: deleted.data.succeed,
    left: left.data.objects.map(r => [r.name, r.stock]),
    near: near.data.objects.map(r => r.name),
    deletedById,
    finalCount,
    notFound,
    badArgument
  }
}
