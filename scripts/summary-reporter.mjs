// Node test reporter that prints one closing line: "N passed, N failed" (suites not counted).
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    const d = event.data;
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (d.details?.type === 'suite') continue;
    if (event.type === 'test:fail') failed++;
    else if (d.skip || d.todo) skipped++;
    else passed++;
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
