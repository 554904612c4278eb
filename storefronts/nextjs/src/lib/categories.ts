import type { Schemas } from '@weft/sdk';

type Category = Schemas['Category'];

/** Depth-first search of the tree for a handle, with the path of ancestors to it. */
export function findCategory(tree: Category[], handle: string, trail: Category[] = []): { category: Category; trail: Category[] } | null {
  for (const c of tree) {
    if (c.handle === handle) return { category: c, trail };
    const found = findCategory(c.children, handle, [...trail, c]);
    if (found) return found;
  }
  return null;
}

export function flatten(tree: Category[]): Category[] {
  return tree.flatMap((c) => [c, ...flatten(c.children)]);
}

/** The tree in display order, each category with its depth (0 at the root), for a select. */
export function withDepth(tree: Category[], depth = 0): { category: Category; depth: number }[] {
  return tree.flatMap((c) => [{ category: c, depth }, ...withDepth(c.children, depth + 1)]);
}
