/**
 * Just enough of the DOM for the dashboard's builders (static/dom.js: createElement,
 * setAttribute, addEventListener, append) to run under Node, so unit tests can read what they
 * drew. It has no HTML parser: assigning innerHTML or outerHTML throws, as Trusted Types do in
 * the browser, so a builder that put data in as HTML fails here instead of passing unseen.
 */

export class FakeNode {
  get textContent(): string {
    return '';
  }
}

export class FakeText extends FakeNode {
  constructor(readonly data: string) {
    super();
  }

  override get textContent(): string {
    return this.data;
  }
}

export class FakeElement extends FakeNode {
  readonly attributes = new Map<string, string>();
  readonly children: FakeNode[] = [];
  readonly listeners: string[] = [];

  constructor(readonly tagName: string) {
    super();
  }

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, String(value));
  }

  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }

  addEventListener(type: string): void {
    this.listeners.push(type);
  }

  append(...nodes: (FakeNode | string)[]): void {
    for (const node of nodes) this.children.push(typeof node === 'string' ? new FakeText(node) : node);
  }

  override get textContent(): string {
    return this.children.map((c) => c.textContent).join('');
  }

  set innerHTML(_html: string) {
    throw new TypeError('innerHTML: this document takes no HTML (Trusted Types)');
  }

  set outerHTML(_html: string) {
    throw new TypeError('outerHTML: this document takes no HTML (Trusted Types)');
  }

  /** Every element below this one, and this one, depth first. */
  all(): FakeElement[] {
    return [this, ...this.children.flatMap((c) => (c instanceof FakeElement ? c.all() : []))];
  }

  /** The elements below (or this one) whose attribute has this value, or that have it at all. */
  find(attribute: string, value?: string): FakeElement[] {
    return this.all().filter((e) => e.attributes.has(attribute) && (value === undefined || e.attributes.get(attribute) === value));
  }
}

/** Installs `document` and `Node` as globals; returns a function that removes them. */
export function installFakeDom(): () => void {
  const g = globalThis as Record<string, unknown>;
  const before = { document: g.document, Node: g.Node };
  g.document = { createElement: (tag: string) => new FakeElement(tag) };
  g.Node = FakeNode;
  return () => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete g[name];
      else g[name] = value;
    }
  };
}
