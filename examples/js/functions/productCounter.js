// productCounter counts the views of a product in the table "product": the
// first call for a name creates its record, each later one adds 1 to its
// views atomically, and it answers the count.
exports.main = async function productCounter (event) {
  const name = event.data.name
  const products = new BaaS.TableObject('product')
  let found = []
  try {
    found = (await products.setQuery(new BaaS.Query().compare('name', '=', name)).limit(1).find()).data.objects
  } catch (e) {
    // 404: no table "product" yet. The emulator without a schema creates a
    // table on its first write, just below.
    if (e.code !== 404) throw e
  }
  if (found.length === 0) {
    const created = await products.create().set({ name, views: 1 }).save()
    return { name, views: created.data.views }
  }
  const updated = await products.getWithoutData(found[0].id).incrementBy('views', 1).update()
  return { name, views: updated.data.views }
}
