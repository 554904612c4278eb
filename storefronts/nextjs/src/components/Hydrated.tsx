'use client';
import { useEffect } from 'react';

/** Marks the document once React has hydrated it (`<html data-hydrated>`), for tests and styles. */
export function Hydrated() {
  useEffect(() => {
    document.documentElement.dataset.hydrated = 'true';
  }, []);
  return null;
}
