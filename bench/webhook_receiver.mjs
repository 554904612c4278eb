// A webhook receiver for bench/webhooks.sh: answers every POST with 204 and counts it;
// `GET /count` answers the count. Node's http server: tens of thousands of requests/s on
// one core, so the receiver is not what is measured.
import { createServer } from 'node:http';

let count = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.end(String(count));
    return;
  }
  req.resume();
  req.on('end', () => {
    count += 1;
    res.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT ?? 18190), '127.0.0.1');
