import { ferrySync } from './index.js';
ferrySync();
