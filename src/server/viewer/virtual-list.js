// A virtualised list of fixed-height rows: only the rows in view (and a margin) are in the DOM,
// so a session of 100k messages scrolls like one of 100.

export const ROW_HEIGHT = 28;
const OVERSCAN = 10;

/**
 * `render(index)` builds row `index`'s element; the list positions it. Returns the scroller with
 * `setCount(n)`, `scrollToIndex(i)` and `refresh()`.
 */
export const virtualList = ({ label, render, height = '60vh' }) => {
  const scroller = document.createElement('div');
  scroller.className = 'vlist';
  scroller.tabIndex = 0;
  scroller.setAttribute('role', 'region');
  scroller.setAttribute('aria-label', label);
  scroller.style.height = height;
  const inner = document.createElement('div');
  inner.className = 'vlist-inner';
  inner.setAttribute('role', 'list');
  scroller.append(inner);
  let count = 0;
  let first = -1;
  let last = -1;
  const rows = new Map();

  const paint = (force = false) => {
    const top = scroller.scrollTop;
    const h = scroller.clientHeight || 600;
    const from = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const to = Math.min(count, Math.ceil((top + h) / ROW_HEIGHT) + OVERSCAN);
    if (!force && from === first && to === last) return;
    for (const [i, node] of rows) {
      if (force || i < from || i >= to) {
        node.remove();
        rows.delete(i);
      }
    }
    const frag = document.createDocumentFragment();
    for (let i = from; i < to; i++) {
      if (rows.has(i)) continue;
      const node = render(i);
      node.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      node.setAttribute('role', 'listitem');
      rows.set(i, node);
      frag.append(node);
    }
    inner.append(frag);
    first = from;
    last = to;
  };

  let queued = false;
  scroller.addEventListener(
    'scroll',
    () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        paint();
      });
    },
    { passive: true },
  );

  return Object.assign(scroller, {
    setCount(n) {
      count = n;
      inner.style.height = `${n * ROW_HEIGHT}px`;
      paint(true);
    },
    scrollToIndex(i) {
      scroller.scrollTop = Math.max(0, i * ROW_HEIGHT - scroller.clientHeight / 3);
      paint();
    },
    refresh: () => paint(true),
  });
};
