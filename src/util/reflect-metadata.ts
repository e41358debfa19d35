/**
 * Minimal Reflect metadata for tsyringe (see x509.ts): defineMetadata, getOwnMetadata and
 * getMetadata (which follows the prototype chain), on objects and their properties.
 */
type Key = string | symbol | undefined;
const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>();

function own(target: object, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty && create) store.set(target, (byProperty = new Map()));
  let entries = byProperty?.get(property);
  if (!entries && create && byProperty) byProperty.set(property, (entries = new Map()));
  return entries;
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  const getOwnMetadata = (key: unknown, target: object, property?: Key): unknown => own(target, property, false)?.get(key);
  Object.assign(reflect, {
    defineMetadata: (key: unknown, value: unknown, target: object, property?: Key) => own(target, property, true)?.set(key, value),
    getOwnMetadata,
    hasOwnMetadata: (key: unknown, target: object, property?: Key) => own(target, property, false)?.has(key) ?? false,
    getMetadata(key: unknown, target: object, property?: Key): unknown {
      for (let at: object | null = target; at; at = Object.getPrototypeOf(at) as object | null) {
        const entries = own(at, property, false);
        if (entries?.has(key)) return entries.get(key);
      }
      return undefined;
    },
  });
}
