import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
let hits = 0;
const srv = createServer((req, res) => {
  if (req.url === '/') { res.setHeader('content-type','text/html'); return res.end('<script type=module></script>'); }
  if (req.url?.startsWith('/m.js')) { hits++; if (hits === 1) { res.statusCode = 500; return res.end(); } res.setHeader('content-type','text/javascript'); return res.end('export const x = 42;'); }
  if (req.url?.startsWith('/w.js')) { hits++; if (hits <= 3) { res.statusCode = 500; return res.end(); } res.setHeader('content-type','text/javascript'); return res.end('postMessage("hi")'); }
  res.statusCode = 404; res.end();
}).listen(0, '127.0.0.1');
await new Promise((r) => srv.once('listening', r));
const port = (srv.address() as any).port;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const p = await b.newPage();
await p.goto(`http://127.0.0.1:${port}/`);
console.log(await p.evaluate(async () => {
  const out: string[] = [];
  for (let i = 0; i < 2; i++) { try { const m = await import('/m.js'); out.push('ok ' + m.x); } catch (e) { out.push('fail ' + String(e)); } }
  return out;
}), hits);
await b.close(); srv.close();
