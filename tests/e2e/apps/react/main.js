// A React 19 app as an app author writes it against the published entries ('@ferry-telemetry/agent'
// and its '/react'; the test's Vite build resolves them to the repo's dist/). Plain JavaScript with
// createElement, so it needs no JSX step. What the test drives and reads is on window.app.
import { init } from '@ferry-telemetry/agent';
import { FerryErrorBoundary, reactErrorHandler } from '@ferry-telemetry/agent/react';
import { Component, createElement as h, useState } from 'react';
import { createRoot } from 'react-dom/client';

init({ product: 'react-app', application: 'shop', version: '1.0.0' });

const app = {
  /** While true, Bomb throws during render. */
  armed: true,
  /** What the boundary's onError and the root's callback received. */
  onError: [],
  rootCallbacks: [],
};
window.app = app;

function Bomb() {
  if (app.armed) throw new Error('Bomb exploded while rendering');
  return h('p', { id: 'child' }, 'child rendered');
}

function Panel() {
  return h('section', null, h(Bomb));
}

function Counter() {
  const [n, setN] = useState(0);
  return h('button', { id: 'counter', type: 'button', onClick: () => setN(n + 1) }, `clicked ${n}`);
}

function Fallback({ error, reset }) {
  const retry = () => {
    app.armed = false;
    reset();
  };
  return h(
    'div',
    { id: 'fallback' },
    h('p', null, `Something went wrong: ${error.message}`),
    h('button', { id: 'retry', type: 'button', onClick: retry }, 'Try again'),
  );
}

/** An app's own boundary, not Ferry's: what it catches reaches Ferry through the root's onCaughtError. */
class PlainBoundary extends Component {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  render() {
    return this.state.failed ? h('p', { id: 'plain-fallback' }, 'plain boundary caught it') : this.props.children;
  }
}

function Trigger({ id, text }) {
  const [thrown, setThrown] = useState(false);
  if (thrown) throw new Error(text);
  return h('button', { id, type: 'button', onClick: () => setThrown(true) }, id);
}

function App() {
  return h(
    'main',
    null,
    h(Counter),
    h(
      FerryErrorBoundary,
      {
        category: 'Render',
        fallback: ({ error, reset }) => h(Fallback, { error, reset }),
        onError: (error, componentStack) => app.onError.push({ message: error.message, componentStack }),
      },
      h(Panel),
    ),
    h(PlainBoundary, null, h(Trigger, { id: 'throw-in-plain', text: 'Caught by the plain boundary' })),
  );
}

const rootOptions = {
  onCaughtError: reactErrorHandler({ callback: (error) => app.rootCallbacks.push(error.message) }),
  onUncaughtError: reactErrorHandler({ severity: 'critical' }),
};
createRoot(document.getElementById('root'), rootOptions).render(h(App));
// A second root with no boundary at all: an error there is uncaught and unmounts only this root.
createRoot(document.getElementById('other'), rootOptions).render(h(Trigger, { id: 'throw-uncaught', text: 'Nobody caught this' }));
