// A single-writer service for the lab: it answers Sonarr's cheap probe (GET /ping) and, while it
// runs, appends "<ms> <address> write" to a journal on the machine's shared disk every 50 ms,
// the way an *arr app writes its database on shared storage. Two copies writing at once show as
// interleaved addresses in the journal.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import process from 'node:process';
import { clearInterval, setInterval } from 'node:timers';
import console from 'node:console';

const [journal, port = '8989'] = process.argv.slice(2);
const address = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address ?? 'unknown';
const write = (what) => appendFileSync(journal, `${Date.now()} ${address} ${what}\n`);
write('start');
const timer = setInterval(() => write('write'), 50);
const server = createServer((req, res) => {
  if (req.url === '/ping') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end('{\n  "status": "OK"\n}');
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(Number(port), '0.0.0.0', () => console.log(`writer listening on ${address}:${port}`));
const stop = () => { clearInterval(timer); write('stop'); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
