'use strict'
// The benchmark's baseline: a bare Node HTTP server that runs the seed
// page's helloWorld once per request and answers as the platform does.
// It prints its port on the first line of stdout.
const http = require('http')

const main = function helloWorld (event, callback) {
  console.log(event)
  callback(null, `hello ${event.data.name}`)
}

let jobId = 0
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    const event = {
      data: body.data,
      eventType: 'sdk',
      jobId: ++jobId,
      memoryLimitInMB: 128,
      miniappId: 1,
      request: { meta: { ip_address: req.socket.remoteAddress, user_agent: req.headers['user-agent'] || '' } },
      timeLimitInMS: 5000
    }
    main(event, (err, data) => {
      const out = err
        ? { code: 1, data: null, error: { message: String(err.message || err), stack: err.stack, type: 'Error' } }
        : { code: 0, data, error: {} }
      const text = JSON.stringify(out)
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
      res.end(text)
    })
  })
})
server.keepAliveTimeout = 30000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(server.address().port + '\n')
})
