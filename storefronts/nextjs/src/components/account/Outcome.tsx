'use client';
import { useEffect, useId, useRef, type ReactNode } from 'react';

const TONES = {
  success: 'border-green-300 bg-green-50',
  problem: 'border-red-300 bg-red-50',
  info: 'border-neutral-300 bg-neutral-50',
} as const;

/**
 * How a recovery page ends (a link sent, a password changed, a link that no longer works):
 * a titled region that takes the focus when it appears, so a keyboard or screen-reader user
 * lands on it rather than on the form it replaced.
 */
export function Outcome({ tone, title, children, testId }: { tone: keyof typeof TONES; title: string; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLElement>(null);
  const headingId = useId();
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    // Not a control: no focus ring (inline, as the global :focus-visible rule outranks utilities).
    <section ref={ref} tabIndex={-1} aria-labelledby={headingId} data-testid={testId} className={`rounded border p-4 ${TONES[tone]}`} style={{ outline: 'none' }}>
      <h2 id={headingId} className="mb-2 text-lg font-semibold">{title}</h2>
      <div className="space-y-3 text-sm">{children}</div>
    </section>
  );
}
