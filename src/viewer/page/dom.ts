// Every value on the page reaches the DOM through this builder: text through textContent and
// attributes through setAttribute, never through innerHTML, so span data (names, tags, resource
// values from any sender) can never become markup.

/** A child: a node, text (inserted as a text node), or nothing. */
export type Child = Node | string | null | undefined | false;

/** Attributes; `null`/`undefined`/`false` leave the attribute out, `true` sets it empty. */
export type Attributes = Record<string, string | number | boolean | null | undefined>;

/** Creates an element with attributes and children; strings become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attributes | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attrs) {
    for (const name in attrs) {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Appends children to a node (strings as text nodes). */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Removes every child of a node. */
export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Copies text to the clipboard; resolves false when the browser refuses (no permission, no focus). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A small "Copy" button that copies `text` and says whether it worked. */
export function copyButton(text: string, label = 'Copy'): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'copy', title: 'Copy to the clipboard' }, label);
  button.addEventListener('click', (event) => {
    event.stopPropagation();
    void copyText(text).then((ok) => {
      button.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => (button.textContent = label), 1500);
    });
  });
  return button;
}
