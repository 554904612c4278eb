'use client';
import { useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { inputClass, type FieldErrors } from '@/lib/forms';
import { Field } from './Field';
import { secondary } from './ui';

type Image = Schemas['Image'];

/**
 * The product's pictures in display order (the first is the main one): add one by URL
 * with its alt text, change a URL or an alt text, move, remove. The list is the form's:
 * it is sent whole as `images` when the product is saved. `errors` are Weft's, keyed
 * `images[2].url`.
 */
export function ProductImages({ images, onChange, errors }: { images: Image[]; onChange: (images: Image[]) => void; errors: FieldErrors }) {
  const [url, setUrl] = useState('');
  const [alt, setAlt] = useState('');
  const [missing, setMissing] = useState(false);
  const set = (i: number, patch: Partial<Image>) => onChange(images.map((img, j) => (j === i ? { ...img, ...patch } : img)));
  const move = (i: number, by: number) => {
    const next = [...images];
    [next[i], next[i + by]] = [next[i + by]!, next[i]!];
    onChange(next);
  };

  const input = (i: number, key: 'url' | 'alt', label: string) => {
    const error = errors[`images[${i}].${key}`];
    return (
      <Field id={`p-image-${i}-${key}`} label={label} error={error} labelClass="text-sm" className="sm:col-span-3">
        {(control) => <input {...control} value={images[i]![key] ?? ''} onChange={(e) => set(i, { [key]: e.target.value })} className={inputClass(!!error)} />}
      </Field>
    );
  };

  return (
    <fieldset className="rounded border border-neutral-300 p-3">
      <legend className="px-1 font-semibold">Images</legend>
      <p className="text-sm">The first is the product&apos;s main picture. Changes here are kept when you save the product.</p>
      {errors['images'] && <p className="text-sm text-red-700">{errors['images']}</p>}
      {images.length === 0 && <p className="mt-2 text-sm">No images yet.</p>}
      <ol className="mt-2 flex flex-col gap-3">
        {images.map((img, i) => (
          <li key={i} className="grid grid-cols-1 items-end gap-2 sm:grid-cols-8" data-testid="product-image">
            {input(i, 'url', `Image ${i + 1} URL`)}
            {input(i, 'alt', `Image ${i + 1} alt text`)}
            <div className="flex gap-1 sm:col-span-2">
              <button type="button" className={secondary} disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move image ${i + 1} up`}>↑</button>
              <button type="button" className={secondary} disabled={i === images.length - 1} onClick={() => move(i, 1)} aria-label={`Move image ${i + 1} down`}>↓</button>
              <button type="button" className={secondary} onClick={() => onChange(images.filter((_, j) => j !== i))}>Remove<span className="sr-only"> image {i + 1}</span></button>
            </div>
          </li>
        ))}
      </ol>
      <div className="mt-3 grid grid-cols-1 items-end gap-2 sm:grid-cols-8">
        <Field id="p-new-image-url" label="New image URL (https://… or /media/…)" error={missing ? "Enter the picture's address." : undefined} labelClass="text-sm" className="sm:col-span-3">
          {(control) => <input {...control} value={url} onChange={(e) => { setUrl(e.target.value); setMissing(false); }} className={inputClass(missing)} />}
        </Field>
        <Field id="p-new-image-alt" label="New image alt text" labelClass="text-sm" className="sm:col-span-3">
          {(control) => <input {...control} value={alt} onChange={(e) => setAlt(e.target.value)} className={inputClass(false)} />}
        </Field>
        <button
          type="button"
          className={`${secondary} sm:col-span-2`}
          onClick={() => {
            if (!url.trim()) return setMissing(true);
            onChange([...images, { url: url.trim(), alt: alt.trim() }]);
            setUrl('');
            setAlt('');
          }}
        >
          Add image
        </button>
      </div>
    </fieldset>
  );
}
