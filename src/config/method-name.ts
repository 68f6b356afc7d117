import { ConfigError } from '../errors';
import { expectArray, expectObject, expectString, fieldPath, getField, indexPath } from '../json/path';

/** One parsed `methodConfig[].name[]` entry. */
export interface MethodName {
  /** The lookup key: `/service/method`, `/service/`, or `` for the global default. */
  readonly key: string;
  /** The entry's JSON path, e.g. `methodConfig[2].name[0]`, for duplicate-name errors. */
  readonly path: string;
}

/**
 * The lookup key of a method config name, in the form method paths are matched against
 * (`doc/service_config.md` / `service_config.proto` `MethodConfig.Name`).
 * @param service the service name with its package (`pkg.Svc`), or `''` for the global default.
 * @param method the method name, or `''` for every method of the service.
 */
export function methodConfigKey(service: string, method: string): string {
  return service === '' ? '' : `/${service}/${method}`;
}

/**
 * Parse the `name` list of one method config (`service_config.proto`, `MethodConfig.Name`):
 * `{service, method}` selects one method, `{service}` (or an empty `method`) every method of a
 * service, `{}` (or an empty `service`) every method. A `method` without a `service` is invalid.
 * `null`, `""` and absent are the same. A name containing `/` could never match a method path
 * (`/service/method`), so it is rejected rather than silently ignored.
 * @param value the JSON value of `name` (`undefined` when absent: no names, the entry applies to nothing).
 * @param path the JSON path of `name`.
 * @throws ConfigError naming the invalid entry or field.
 */
export function parseMethodNames(value: unknown, path: string): MethodName[] {
  if (value === undefined) return [];
  const list = expectArray(value, path);
  const names: MethodName[] = [];
  for (let i = 0; i < list.length; i++) {
    const entryPath = indexPath(path, i);
    const entry = expectObject(list[i], entryPath);
    const service = parseNamePart(getField(entry, 'service'), fieldPath(entryPath, 'service'));
    const method = parseNamePart(getField(entry, 'method'), fieldPath(entryPath, 'method'));
    if (service === '' && method !== '') {
      const servicePath = fieldPath(entryPath, 'service');
      throw new ConfigError(servicePath, 'must be set when "method" is set', getField(entry, 'service'));
    }
    names.push({ key: methodConfigKey(service, method), path: entryPath });
  }
  return names;
}

function parseNamePart(value: unknown, path: string): string {
  if (value === undefined) return '';
  const text = expectString(value, path);
  if (text.includes('/')) throw new ConfigError(path, 'must not contain "/"', value);
  return text;
}
