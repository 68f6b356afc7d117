// Preload (`node --import ./hide-packages.mjs`): makes the packages named in HIDE_PACKAGES (comma-separated)
// impossible to load, through require() and import() alike, as if they were not installed.
import Module, { register } from 'node:module';

const hidden = (process.env.HIDE_PACKAGES ?? '').split(',').filter(Boolean);
const isHidden = (request) => hidden.some((name) => request === name || request.startsWith(`${name}/`));
const original = Module._resolveFilename;
Module._resolveFilename = function resolveFilename(request, ...rest) {
  if (isHidden(request)) throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
  return original.call(this, request, ...rest);
};
const hook = `const hidden = ${JSON.stringify(hidden)};
export async function resolve(specifier, context, next) {
  if (hidden.some((name) => specifier === name || specifier.startsWith(name + '/'))) {
    throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
