import { createConsumerApp, packRepository } from './tests/support/consumer.js';
import { launchBrowser } from './tests/support/browser.js';
import { spawn } from 'node:child_process';
const packed = await packRepository();
const app = await createConsumerApp({
  'index.html': '<!doctype html><script type="module" src="/src/main.js"></script>',
  'src/main.js': `import { init, log, packager } from '${packed.name}';
init({ product: 'shop', application: 'web', version: '1' });
log.error('X', 'boom');
window.pk = () => packager.send({ criteria: ['active'], destination: 'blob' }).then(r => r.status + ' ' + r.blob.size, e => 'ERR ' + e);`,
}, packed.tarball, ['vite']);
const child = spawn('npx', ['vite', '--port', '5199', '--strictPort', '--host', '127.0.0.1'], { cwd: app.dir, stdio: 'pipe' });
child.stdout.on('data', (d) => process.stdout.write('[vite] ' + d));
await new Promise((r) => setTimeout(r, 4000));
const b = await launchBrowser();
const p = await b.newPage();
p.on('console', (m) => console.log('console:', m.text()));
p.on('worker', (w) => console.log('worker', w.url()));
await p.goto('http://127.0.0.1:5199/');
await p.waitForFunction(() => (window as any).pk);
console.log(await p.evaluate(() => (window as any).pk()));
await b.close(); child.kill(); await app.dispose(); await packed.dispose();
