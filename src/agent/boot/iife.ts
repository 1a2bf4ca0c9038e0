// Script-tag build: everything on the global `Ferry` (vite's IIFE `name`).
export * from './index.js';
