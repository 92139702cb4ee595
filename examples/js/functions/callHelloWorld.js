// The seed page's calling snippet, exactly as printed, as the body of a
// function: it uses the callback of the function around it.
exports.main = function callHelloWorld(event, callback) {
BaaS.invoke('helloWorld', {name: 'allen'}).then(res => {
  let result = res
  if (result.code === 0) {
    callback(null, result.data)
  } else {
    callback(result.error.message)
  }
}, err => {
  // HError 对象
  callback(err)
})
}
