'use client';
import { useEffect, useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { problemText } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { button, h1 } from './ui';

/** Sends a CSV or JSON Lines file to POST /v1/admin/products/import and follows the job every half second. */
export function ProductImport() {
  const { weft } = useAdmin();
  const [file, setFile] = useState<File | null>(null);
  const [job, setJob] = useState<Schemas['Job'] | null>(null);
  const { busy, error, setError, submit } = useSubmit();

  useEffect(() => {
    if (!job || job.status === 'done') return;
    const t = setTimeout(() => {
      weft.api.GET('/v1/admin/jobs/{id}', { params: { path: { id: job.id } } }).then(({ data }) => setJob(data!)).catch((e) => setError(problemText(e)));
    }, 500);
    return () => clearTimeout(t);
  }, [weft, job]);

  async function upload(e: React.FormEvent) {
    e.preventDefault();
    if (!file) return;
    setJob(null);
    await submit(async () => {
      const format = file.name.toLowerCase().endsWith('.jsonl') ? 'jsonl' : 'csv';
      const { data } = await weft.api.POST('/v1/admin/products/import', {
        params: { query: { format } },
        body: await file.text(),
        bodySerializer: (b: string) => b,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      });
      setJob(data!);
    });
  }

  const pct = job && job.total > 0 ? Math.round((job.processed / job.total) * 100) : job?.status === 'done' ? 100 : 0;
  return (
    <div>
      <h1 className={h1}>Import products</h1>
      <p className="max-w-2xl">
        A CSV file (a header row, one row per variant; columns <code>handle</code>, <code>title</code>, <code>brand</code>,{' '}
        <code>status</code>, <code>option:size</code>, <code>option:color</code>, <code>sku</code>, <code>price:USD</code>…) or
        a <code>.jsonl</code> file with one product per line. Each product lands whole or not at all.
      </p>
      <form onSubmit={upload} className="mt-4 flex flex-wrap items-end gap-3">
        <div>
          <label htmlFor="import-file" className="block font-medium">File</label>
          <input id="import-file" type="file" accept=".csv,.jsonl,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </div>
        <button type="submit" disabled={!file || busy} className={button}>Import</button>
      </form>
      {error && <p role="alert" className="mt-2 text-red-700">{error}</p>}
      {job && (
        <section aria-labelledby="job-h" className="mt-6">
          <h2 id="job-h" className="font-semibold">Job {job.id}: {job.status}</h2>
          <progress max={job.total || 1} value={job.processed} aria-label="Import progress" className="mt-2 h-4 w-full max-w-xl" />
          <p aria-live="polite" data-testid="import-progress">
            {job.processed} of {job.total} processed ({pct} %): {job.succeeded} imported, {job.failed} refused
          </p>
          {job.problems.length > 0 && (
            <ul className="mt-2 list-disc pl-6 text-red-800">
              {job.problems.map((p) => <li key={p.line}>line {p.line}: {p.reason}</li>)}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
