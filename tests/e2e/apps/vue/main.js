// A Vue 3 app as an app author writes it against the published entries ('@ferry-telemetry/agent'
// and its '/vue'; the test's Vite build resolves them to the repo's dist/). Render functions, so it
// needs no SFC compiler. What the test drives and reads is on window.app.
import { init } from '@ferry-telemetry/agent';
import { FerryVue } from '@ferry-telemetry/agent/vue';
import { createApp, defineComponent, h, onErrorCaptured, ref } from 'vue';

init({ product: 'vue-app', application: 'shop', version: '1.0.0' });

const app = {
  /** What the errorHandler installed before the plugin received. */
  previous: [],
};
window.app = app;

const BombItem = defineComponent({
  name: 'BombItem',
  props: { armed: Boolean },
  setup(props) {
    return () => {
      if (props.armed) throw new Error('Bomb exploded while rendering');
      return h('p', { id: 'child' }, 'child rendered');
    };
  },
});

const ItemPanel = defineComponent({
  name: 'ItemPanel',
  props: { armed: Boolean },
  setup: (props) => () => h('section', null, h(BombItem, { armed: props.armed })),
});

// The app's own boundary: errorCaptured shows a fallback and lets the error go on to
// app.config.errorHandler (returning false would stop it there, before Ferry).
const ErrorGuard = defineComponent({
  name: 'ErrorGuard',
  emits: ['retry'],
  setup(_, { slots, emit }) {
    const failed = ref(false);
    onErrorCaptured(() => {
      failed.value = true;
    });
    return () =>
      failed.value
        ? h('div', { id: 'fallback' }, [
            h('p', null, 'Something went wrong'),
            h('button', { id: 'retry', type: 'button', onClick: () => emit('retry') }, 'Try again'),
          ])
        : slots.default();
  },
});

const ClickCounter = defineComponent({
  name: 'ClickCounter',
  setup() {
    const n = ref(0);
    return () => h('button', { id: 'counter', type: 'button', onClick: () => n.value++ }, `clicked ${n.value}`);
  },
});

const ShopApp = defineComponent({
  name: 'ShopApp',
  setup() {
    const armed = ref(true);
    const generation = ref(0);
    // A new ErrorGuard (by key) after retry: the reset of this app's boundary.
    const retry = () => {
      armed.value = false;
      generation.value++;
    };
    return () =>
      h('main', null, [
        h(ClickCounter),
        h(ErrorGuard, { key: generation.value, onRetry: retry }, { default: () => h(ItemPanel, { armed: armed.value }) }),
        h(
          'button',
          {
            id: 'throw-in-handler',
            type: 'button',
            onClick: () => {
              throw new Error('Thrown in a click handler');
            },
          },
          'throw',
        ),
      ]);
  },
});

const vue = createApp(ShopApp);
vue.config.errorHandler = (error, instance, info) => app.previous.push({ message: error.message, component: instance?.$options.name, info });
vue.use(FerryVue, { category: 'UI' });
vue.mount('#app');

// A second app with no handler of its own and the default category.
const PlainApp = defineComponent({
  name: 'PlainApp',
  setup: () => () =>
    h(
      'button',
      {
        id: 'throw-plain',
        type: 'button',
        onClick: () => {
          throw new Error('Thrown in the plain app');
        },
      },
      'throw',
    ),
});
createApp(PlainApp).use(FerryVue).mount('#plain');
