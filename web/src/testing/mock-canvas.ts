/** A CanvasRenderingContext2D stand-in that counts calls (jsdom has no canvas). */
export function mockContext(): CanvasRenderingContext2D & { calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const target: Record<string, unknown> = { calls };
  return new Proxy(target, {
    get(obj, prop: string) {
      if (prop in obj) return obj[prop];
      return (..._args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
      };
    },
    set(obj, prop: string, value) {
      obj[prop] = value;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D & { calls: Record<string, number> };
}
