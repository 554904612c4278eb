'use client';
import { useEffect, useRef, useState } from 'react';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { ACCOUNT_FORM, buttonClass, formatDate, problemMessage, secondaryButtonClass } from '@/lib/account';
import { useSubmit } from '@/lib/useSubmit';
import { Field } from './Field';

type Preferences = Schemas['NotificationPreferences'];
type PreferencesBody = Schemas['PreferencesRequest'];
type Device = Schemas['PushDevice'];

/** Where the account page's notification settings are (the unsubscribe page links here). */
export const NOTIFICATIONS_HREF = '/account#notifications';

const PLATFORMS: Record<string, string> = { ios: 'iOS', android: 'Android', web: 'Web browser' };
const platformLabel = (p: string) => PLATFORMS[p] ?? p;

/** What a shopper types to what Weft reads: `+33 6 12-34.56 (78)` → `+33612345678`
 *  (E.164 has no separators). Empty means no number. */
export function normalisePhone(typed: string): string {
  return typed.replace(/[\s().-]/g, '');
}

interface Form {
  marketing: boolean;
  phone: string;
  sms: boolean;
  push: boolean;
}

const formOf = (p: Preferences): Form => ({
  marketing: p.marketing_email,
  phone: p.phone ?? '',
  sms: p.sms_order_updates,
  push: p.push_order_updates,
});

/** Only what the shopper changed: a change made elsewhere since the page loaded (the
 *  unsubscribe link of an e-mail, another tab) is not undone by saving something else. */
function changes(p: Preferences, f: Form): PreferencesBody {
  const body: PreferencesBody = {};
  if (f.marketing !== p.marketing_email) body.marketing_email = f.marketing;
  const phone = normalisePhone(f.phone) || null;
  if (phone !== (p.phone ?? null)) body.phone = phone;
  if (f.sms !== p.sms_order_updates) body.sms_order_updates = f.sms;
  if (f.push !== p.push_order_updates) body.push_order_updates = f.push;
  return body;
}

/**
 * The account page's "Notifications": what the signed-in customer receives besides the
 * order and account e-mails that always go (`GET|PATCH /v1/me/notification-preferences`):
 * marketing e-mail (off until they opt in), order updates by SMS (needs a phone number in
 * E.164) and by push, and the devices the shop's app registered for push, each removable
 * (`DELETE /v1/me/push-devices/{token}`). One PATCH saves the form; a 422's field errors go
 * on their fields.
 */
export function NotificationSettings() {
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [form, setForm] = useState<Form>({ marketing: false, phone: '', sms: false, push: true });
  const [loadError, setLoadError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const { busy, error, errors, submit } = useSubmit(ACCOUNT_FORM);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    void (async () => {
      const weft = await browserWeft();
      const data = (await weft.api.GET('/v1/me/notification-preferences')).data!; // the SDK throws on a refusal
      setPrefs(data);
      setForm(formOf(data));
    })().catch((e) => setLoadError(problemMessage(e)));
  }, []);

  // Arrived from a link to the settings (`/account#notifications`): the section renders
  // after the page, so the browser could not scroll to it by itself.
  const loaded = prefs !== null;
  useEffect(() => {
    if (loaded && window.location.hash === '#notifications') headingRef.current?.focus();
  }, [loaded]);

  const edit = (patch: Partial<Form>) => {
    setForm((f) => ({ ...f, ...patch }));
    setStatus('');
  };

  return (
    <section id="notifications" aria-labelledby="notifications-heading" className="scroll-mt-4">
      <h2 id="notifications-heading" ref={headingRef} tabIndex={-1} className="mb-3 text-xl font-semibold" style={{ outline: 'none' }}>
        Notifications
      </h2>
      {loadError && <p role="alert" className="text-sm text-red-800">{loadError}</p>}
      {!prefs && !loadError && <p role="status">Loading your notification settings…</p>}
      {prefs && (
        <div className="max-w-xl space-y-6">
          <form
            noValidate
            className="space-y-5"
            data-testid="notification-settings"
            onSubmit={(e) => {
              e.preventDefault();
              void submit(async () => {
                setStatus('');
                const weft = await browserWeft();
                const data = (await weft.api.PATCH('/v1/me/notification-preferences', { body: changes(prefs, form) })).data!;
                setPrefs(data);
                setForm(formOf(data));
                setStatus('Your notification settings are saved.');
              });
            }}
          >
            <p className="text-sm text-neutral-700">
              E-mails about your orders and your account (confirmations, shipping, password resets) always come. Choose what else you want.
            </p>
            {error && (
              <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="notifications-error">
                {error}
              </p>
            )}
            <fieldset className="space-y-2">
              <legend className="mb-1 font-medium">E-mail</legend>
              <Checkbox
                id="notify-marketing"
                label="E-mail me news and reminders (e.g. a cart I left)"
                checked={form.marketing}
                onChange={(v) => edit({ marketing: v })}
                hint="Off unless you turn it on. Every such e-mail has a link to stop them in one click."
                error={errors['marketing_email']}
              />
            </fieldset>
            <fieldset className="space-y-3">
              <legend className="mb-1 font-medium">Text messages (SMS)</legend>
              <Field
                id="notify-phone"
                label="Mobile phone number"
                type="tel"
                auto="tel"
                value={form.phone}
                onChange={(v) => edit({ phone: v })}
                hint="With the country code, e.g. +33612345678. Leave it empty to remove it."
                error={errors['phone']}
              />
              <Checkbox
                id="notify-sms"
                label="Text me order updates"
                checked={form.sms}
                onChange={(v) => edit({ sms: v })}
                hint="When an order is confirmed, shipped, delivered or cancelled. Needs a phone number."
                error={errors['sms_order_updates']}
              />
            </fieldset>
            <fieldset className="space-y-2">
              <legend className="mb-1 font-medium">Push notifications</legend>
              <Checkbox
                id="notify-push"
                label="Push order updates to my devices"
                checked={form.push}
                onChange={(v) => edit({ push: v })}
                hint="To the devices listed below, where you signed in to our app."
                error={errors['push_order_updates']}
              />
            </fieldset>
            <button type="submit" disabled={busy} className={buttonClass}>Save notification settings</button>
          </form>
          {/* Present from the start, so each outcome is announced when it appears. */}
          <p role="status" className="text-sm font-medium text-green-800" data-testid="notifications-status">
            {status}
          </p>
          <Devices
            devices={prefs.push_devices}
            onRemoved={(token) => {
              setPrefs((p) => p && { ...p, push_devices: p.push_devices.filter((d) => d.token !== token) });
              setStatus('The device is removed: it gets no more push notifications.');
            }}
          />
        </div>
      )}
    </section>
  );
}

/** A checkbox with its label, hint and (422) error, tied to it as `Field` ties them. */
function Checkbox(props: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string; error?: string }) {
  const describedBy = [props.error ? `${props.id}-error` : null, props.hint ? `${props.id}-hint` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div>
      <div className="flex items-start gap-2">
        <input
          id={props.id}
          type="checkbox"
          checked={props.checked}
          onChange={(e) => props.onChange(e.target.checked)}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={describedBy}
          className="mt-1 h-4 w-4 shrink-0 accent-neutral-900"
        />
        <label htmlFor={props.id}>{props.label}</label>
      </div>
      {props.hint && <p id={`${props.id}-hint`} className="mt-1 ml-6 text-xs text-neutral-700">{props.hint}</p>}
      {props.error && (
        <p id={`${props.id}-error`} className="mt-1 ml-6 text-sm text-red-800" data-testid={`error-${props.id}`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** The devices the shop's app registered for push: listed and removable here, never added
 *  (a web page has no Expo push token to give). */
function Devices({ devices, onRemoved }: { devices: Device[]; onRemoved: (token: string) => void }) {
  const [removing, setRemoving] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function remove(token: string) {
    setRemoving(token);
    setError(null);
    try {
      const weft = await browserWeft();
      try {
        await weft.api.DELETE('/v1/me/push-devices/{token}', { params: { path: { token } } });
      } catch (e) {
        // Removed meanwhile (another tab, the app): gone all the same.
        if (!(e instanceof WeftProblem && e.code === 'push_token_not_found')) throw e;
      }
      onRemoved(token);
    } catch (e) {
      setError(problemMessage(e));
    } finally {
      setRemoving(null);
    }
  }

  return (
    <div>
      <h3 className="mb-2 font-medium">Your devices</h3>
      {error && <p role="alert" className="mb-2 text-sm text-red-800">{error}</p>}
      {devices.length === 0 ? (
        <p className="text-sm" data-testid="no-devices">No devices yet — our app registers them.</p>
      ) : (
        <ul className="space-y-2" data-testid="devices">
          {devices.map((d) => (
            <li key={d.token} className="flex flex-wrap items-center justify-between gap-3 rounded border border-neutral-300 p-3 text-sm" data-testid="device">
              <span>
                <strong>{platformLabel(d.platform)}</strong>, added {formatDate(d.created_at)}
              </span>
              <button type="button" disabled={removing !== null} className={secondaryButtonClass} onClick={() => void remove(d.token)}>
                Remove<span className="sr-only"> the {platformLabel(d.platform)} device added {formatDate(d.created_at)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
