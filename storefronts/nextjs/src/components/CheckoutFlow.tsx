'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { inputClass, problemMessage, type FieldErrors } from '@/lib/forms';
import { useSubmit } from '@/lib/useSubmit';
import { browserWeft } from '@/lib/weft-browser';
import { formatMoney } from '@/lib/money';
import { describeOptions } from '@/lib/stock';
import { useCart } from './CartProvider';
import { ORDER_KEY } from './Confirmation';
import { Totals } from './Totals';
import { AddressFields, type AddressFieldSpec } from './AddressFields';

type Checkout = Schemas['Checkout'];
type Address = Schemas['PostalAddress'];
type Method = Schemas['CheckoutShippingMethod'];
type Step = 'email' | 'address' | 'shipping' | 'payment';

const STEPS: { id: Step; title: string }[] = [
  { id: 'email', title: 'Contact' },
  { id: 'address', title: 'Shipping address' },
  { id: 'shipping', title: 'Shipping method' },
  { id: 'payment', title: 'Payment' },
];


/** Test-provider tokens (docs/payments.md): no card number is ever typed into or sent by the shop. */
const TEST_CARDS: [string, string][] = [
  ['tok_visa', 'Visa ending 4242 (succeeds)'],
  ['tok_threeDSecureRequired', 'Visa needing 3-D Secure'],
  ['tok_chargeDeclined', 'Card that is declined'],
  ['tok_insufficientFunds', 'Card with insufficient funds'],
];

const checkoutKey = (cartId: string) => `weft.checkout.${cartId}`;

function uuid(): string {
  return crypto.randomUUID();
}

export function CheckoutFlow() {
  const router = useRouter();
  const { cart, ready, forget } = useCart();
  const [checkout, setCheckout] = useState<Checkout | null>(null);
  const [step, setStep] = useState<Step>('email');
  const { busy, error, setError, errors, submit } = useSubmit({ describe: problemMessage, fieldsOnly: true });
  const [methods, setMethods] = useState<Method[]>([]);
  const started = useRef<string | null>(null);
  const [accountEmail, setAccountEmail] = useState<string | null>(null);

  // A signed-in customer's e-mail is offered in the contact step.
  useEffect(() => {
    let live = true;
    void (async () => {
      const weft = await browserWeft();
      if (!(await weft.auth.isSignedIn())) return;
      const { data } = await weft.api.GET('/v1/me');
      if (live && data?.email) setAccountEmail(data.email);
    })().catch(() => {});
    return () => {
      live = false;
    };
  }, []);

  // Make (or find again) this cart's checkout.
  useEffect(() => {
    if (!ready || !cart || cart.items.length === 0 || started.current === cart.id) return;
    started.current = cart.id;
    void (async () => {
      try {
        const weft = await browserWeft();
        const saved = sessionStorage.getItem(checkoutKey(cart.id));
        let c: Checkout | undefined;
        if (saved) {
          try {
            c = (await weft.api.GET('/v1/checkouts/{id}', { params: { path: { id: saved } } })).data;
          } catch {
            c = undefined;
          }
        }
        if (!c || c.status !== 'open') {
          c = (await weft.api.POST('/v1/checkouts', { body: { cart_id: cart.id } })).data;
        }
        if (!c) throw new Error('no checkout');
        sessionStorage.setItem(checkoutKey(cart.id), c.id);
        setCheckout(c);
        setStep(firstMissing(c));
      } catch (e) {
        setError(problemMessage(e));
      }
    })();
  }, [ready, cart]);

  // The cart changed (another tab, the live socket): the summary is priced again.
  const cartVersion = cart?.updated_at;
  useEffect(() => {
    if (!checkout || !cartVersion) return;
    let live = true;
    void browserWeft()
      .then((weft) => weft.api.GET('/v1/checkouts/{id}', { params: { path: { id: checkout.id } } }))
      .then(({ data }) => {
        if (live && data) setCheckout(data);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [cartVersion]); // eslint-disable-line react-hooks/exhaustive-deps

  const loadMethods = useCallback(async (id: string) => {
    const weft = await browserWeft();
    const { data } = await weft.api.GET('/v1/checkouts/{id}/shipping-methods', { params: { path: { id } } });
    setMethods(data?.data ?? []);
  }, []);

  useEffect(() => {
    if (checkout && (step === 'shipping' || step === 'payment')) void loadMethods(checkout.id).catch(() => setMethods([]));
  }, [checkout?.id, step, loadMethods]); // eslint-disable-line react-hooks/exhaustive-deps

  async function update(body: Schemas['UpdateCheckoutRequest'], next: Step) {
    if (!checkout) return;
    await submit(async () => {
      const weft = await browserWeft();
      const { data } = await weft.api.PATCH('/v1/checkouts/{id}', { params: { path: { id: checkout.id } }, body });
      if (data) setCheckout(data);
      setStep(next);
    });
  }

  if (!ready) return <p role="status">Loading…</p>;
  if (!cart || cart.items.length === 0) {
    return (
      <p>
        Your cart is empty. <Link href="/search" className="underline">Continue shopping</Link>
      </p>
    );
  }
  if (!checkout) return error ? <p role="alert" className="text-red-800">{error}</p> : <p role="status">Preparing checkout…</p>;

  const stepIndex = STEPS.findIndex((s) => s.id === step);

  return (
    <div className="grid gap-10 md:grid-cols-[1fr_20rem]">
      <div>
        <ol className="mb-6 flex flex-wrap gap-4 text-sm" aria-label="Checkout steps">
          {STEPS.map((s, i) => (
            <li key={s.id} aria-current={s.id === step ? 'step' : undefined} className={s.id === step ? 'font-semibold' : i < stepIndex ? 'text-neutral-700' : 'text-neutral-600'}>
              {i + 1}. {s.title}
            </li>
          ))}
        </ol>
        {error && <p role="alert" className="mb-4 rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="checkout-error">{error}</p>}

        <StepSection title="Contact" active={step === 'email'} done={stepIndex > 0} summary={checkout.email ?? ''} onEdit={() => setStep('email')}>
          <EmailForm key={accountEmail ?? ''} initial={checkout.email ?? accountEmail ?? ''} busy={busy} error={errors['email']} onSubmit={(email) => update({ email }, 'address')} />
        </StepSection>

        <StepSection
          title="Shipping address"
          active={step === 'address'}
          done={stepIndex > 1}
          summary={checkout.shipping_address ? oneLine(checkout.shipping_address) : ''}
          onEdit={() => setStep('address')}
        >
          <AddressForm initial={checkout.shipping_address ?? null} busy={busy} errors={errors} onSubmit={(a) => update({ shipping_address: a }, 'shipping')} />
        </StepSection>

        <StepSection
          title="Shipping method"
          active={step === 'shipping'}
          done={stepIndex > 2}
          summary={methods.find((m) => m.id === checkout.shipping_method_id)?.name ?? checkout.shipping_method_id ?? ''}
          onEdit={() => setStep('shipping')}
        >
          <MethodForm methods={methods} initial={checkout.shipping_method_id ?? null} busy={busy} error={errors['shipping_method_id']} onSubmit={(id) => update({ shipping_method_id: id }, 'payment')} />
        </StepSection>

        <StepSection title="Payment" active={step === 'payment'} done={false} summary="" onEdit={() => setStep('payment')}>
          <PaymentForm
            checkout={checkout}
            onPaid={(order) => {
              sessionStorage.setItem(ORDER_KEY(order.id), JSON.stringify(order));
              sessionStorage.removeItem(checkoutKey(cart.id));
              forget();
              router.push(`/checkout/confirmation?order=${encodeURIComponent(order.id)}`);
            }}
            onStale={(c) => {
              setCheckout(c);
              setStep(firstMissing(c));
            }}
          />
        </StepSection>
      </div>
      <aside aria-labelledby="order-summary" className="space-y-4">
        <h2 id="order-summary" className="text-lg font-semibold">Order summary</h2>
        <ul className="space-y-2 text-sm">
          {checkout.summary.lines.map((l) => {
            const item = cart.items.find((i) => i.variant_id === l.variant_id);
            return (
            <li key={l.variant_id} className="flex justify-between gap-2">
              <span>
                {l.title}
                {item && <span className="text-neutral-700"> ({describeOptions(item.options as Record<string, string>)})</span>}
                <span className="text-neutral-700"> × {l.quantity}</span>
              </span>
              <span>{formatMoney(l.line_total)}</span>
            </li>
            );
          })}
        </ul>
        <Totals t={checkout.summary} shippingChosen={checkout.shipping_method_id != null} />
      </aside>
    </div>
  );
}

function firstMissing(c: Checkout): Step {
  if (c.missing.includes('email')) return 'email';
  if (c.missing.includes('shipping_address')) return 'address';
  if (c.missing.includes('shipping_method_id')) return 'shipping';
  return 'payment';
}

function oneLine(a: Address): string {
  return [a.name, a.line1, a.city, a.postal_code, a.country].filter(Boolean).join(', ');
}

function StepSection(props: { title: string; active: boolean; done: boolean; summary: string; onEdit: () => void; children: React.ReactNode }) {
  const id = `step-${props.title.toLowerCase().replace(/\s+/g, '-')}`;
  return (
    <section aria-labelledby={id} className="mb-4 rounded border border-neutral-300 p-4">
      <div className="flex items-center justify-between">
        <h2 id={id} className="text-lg font-semibold">{props.title}</h2>
        {!props.active && props.done && (
          <button type="button" onClick={props.onEdit} className="text-sm underline">
            Edit<span className="sr-only"> {props.title.toLowerCase()}</span>
          </button>
        )}
      </div>
      {props.active ? <div className="mt-3">{props.children}</div> : props.done && props.summary ? <p className="mt-1 text-sm text-neutral-700">{props.summary}</p> : null}
    </section>
  );
}

function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} className="mt-1 text-sm text-red-800" data-testid={`error-${id}`}>
      {message}
    </p>
  );
}

function EmailForm({ initial, busy, error, onSubmit }: { initial: string; busy: boolean; error?: string; onSubmit: (email: string) => void }) {
  const [email, setEmail] = useState(initial);
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(email.trim());
      }}
    >
      <label htmlFor="email" className="block text-sm font-medium">E-mail</label>
      <input
        id="email"
        type="email"
        autoComplete="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'email-error' : undefined}
        className={inputClass(!!error)}
      />
      <FieldError id="email-error" message={error} />
      <button type="submit" disabled={busy} className="mt-4 rounded bg-neutral-900 px-5 py-2 font-medium text-white hover:bg-neutral-700 disabled:bg-neutral-500">
        Continue to address
      </button>
    </form>
  );
}

const ADDRESS_FIELDS: (AddressFieldSpec & { name: keyof Address })[] = [
  { name: 'name', label: 'Full name', auto: 'name', wide: true },
  { name: 'line1', label: 'Address', auto: 'address-line1', wide: true },
  { name: 'line2', label: 'Apartment, suite (optional)', auto: 'address-line2' },
  { name: 'city', label: 'City', auto: 'address-level2' },
  { name: 'region', label: 'State / region (optional)', auto: 'address-level1' },
  { name: 'postal_code', label: 'Postal code', auto: 'postal-code' },
  { name: 'phone', label: 'Phone (optional)', auto: 'tel' },
];

function AddressForm({ initial, busy, errors, onSubmit }: { initial: Address | null; busy: boolean; errors: FieldErrors; onSubmit: (a: Address) => void }) {
  const [a, setA] = useState<Record<string, string>>(() => ({
    name: initial?.name ?? '',
    line1: initial?.line1 ?? '',
    line2: initial?.line2 ?? '',
    city: initial?.city ?? '',
    region: initial?.region ?? '',
    postal_code: initial?.postal_code ?? '',
    phone: initial?.phone ?? '',
    country: initial?.country ?? 'US',
  }));
  const err = (f: string) => errors[`shipping_address.${f}`];
  const other = Object.entries(errors).filter(([k]) => k === 'shipping_address' || (k.startsWith('shipping_address.') && !(k.slice(17) in a)));
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const body: Address = {
          name: a.name!.trim(),
          line1: a.line1!.trim(),
          city: a.city!.trim(),
          country: a.country!,
          line2: a.line2?.trim() || null,
          region: a.region?.trim() || null,
          postal_code: a.postal_code?.trim() || null,
          phone: a.phone?.trim() || null,
        };
        onSubmit(body);
      }}
      className="grid gap-3 sm:grid-cols-2"
    >
      {other.length > 0 && (
        <p role="alert" className="text-sm text-red-800 sm:col-span-2">{other.map(([, m]) => m).join(' ')}</p>
      )}
      <AddressFields prefix="addr" fields={ADDRESS_FIELDS} values={a} onChange={setA} errorOf={err} />
      <div className="sm:col-span-2">
        <button type="submit" disabled={busy} className="rounded bg-neutral-900 px-5 py-2 font-medium text-white hover:bg-neutral-700 disabled:bg-neutral-500">
          Continue to shipping
        </button>
      </div>
    </form>
  );
}

function MethodForm({ methods, initial, busy, error, onSubmit }: { methods: Method[]; initial: string | null; busy: boolean; error?: string; onSubmit: (id: string) => void }) {
  const [chosen, setChosen] = useState<string | null>(initial);
  const value = chosen ?? methods[0]?.id ?? null;
  if (methods.length === 0) return <p role="status" className="text-sm">Looking up shipping methods…</p>;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (value) onSubmit(value);
      }}
    >
      <fieldset>
        <legend className="sr-only">Shipping method</legend>
        <div className="space-y-2">
          {methods.map((m) => (
            <label key={m.id} className="flex cursor-pointer items-center justify-between gap-3 rounded border border-neutral-300 p-3">
              <span className="flex items-center gap-3">
                <input type="radio" name="method" value={m.id} checked={value === m.id} onChange={() => setChosen(m.id)} />
                <span>
                  <span className="font-medium">{m.name}</span>
                  <span className="block text-sm text-neutral-700">{m.delivery_estimate}</span>
                </span>
              </span>
              <span>{m.price.amount === 0 ? 'Free' : formatMoney(m.price)}</span>
            </label>
          ))}
        </div>
      </fieldset>
      {error && <p className="mt-1 text-sm text-red-800">{error}</p>}
      <button type="submit" disabled={busy || !value} className="mt-4 rounded bg-neutral-900 px-5 py-2 font-medium text-white hover:bg-neutral-700 disabled:bg-neutral-500">
        Continue to payment
      </button>
    </form>
  );
}

type Completion = Schemas['CheckoutCompletion'];

/**
 * Pay with the `test` provider. One Idempotency-Key per attempt, reused by every click and
 * retry of that attempt, so a double click makes one order; a decline ends the attempt
 * (the server released the stock) and the next card gets a new key. 3-D Secure shows
 * the bank's step here, then confirms.
 */
function PaymentForm({ checkout, onPaid, onStale }: { checkout: Checkout; onPaid: (o: Schemas['Order']) => void; onStale: (c: Checkout) => void }) {
  const [token, setToken] = useState('tok_visa');
  const [paying, setPaying] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [challenge, setChallenge] = useState<Completion | null>(null);
  const attemptKey = useRef<string | null>(null);
  const inFlight = useRef(false);

  async function pay() {
    // A second click while the first is on its way is the same attempt: ignore it here,
    // and the shared key makes the server answer it once even if it got through.
    if (inFlight.current) return;
    inFlight.current = true;
    setPaying(true);
    setMessage(null);
    attemptKey.current ??= uuid();
    try {
      const weft = await browserWeft();
      const { data } = await weft.api.POST('/v1/checkouts/{id}/complete', {
        params: { path: { id: checkout.id }, header: { 'Idempotency-Key': attemptKey.current } },
        body: { payment: { provider: 'test', token } },
      });
      if (!data) throw new Error('no answer');
      if (data.status === 'requires_action') setChallenge(data);
      else if (data.order) onPaid(data.order);
    } catch (e) {
      attemptKey.current = null;
      if (e instanceof WeftProblem && e.code === 'payment_declined') {
        setMessage(`Your card was declined${e.detail ? ` (${e.detail})` : ''}. Nothing was charged: try another card.`);
      } else if (e instanceof WeftProblem && e.code === 'out_of_stock') {
        setMessage('Part of your order sold out while you were checking out. Nothing was charged: update your cart and try again.');
      } else if (e instanceof WeftProblem && e.status === 422 && e.errors.length > 0) {
        const weft = await browserWeft();
        const fresh = (await weft.api.GET('/v1/checkouts/{id}', { params: { path: { id: checkout.id } } }).catch(() => ({ data: undefined }))).data;
        if (fresh && fresh.missing.length > 0) onStale(fresh);
        setMessage(e.errors.map((x) => x.message).join(' '));
      } else {
        setMessage(problemMessage(e));
      }
    } finally {
      inFlight.current = false;
      setPaying(false);
    }
  }

  async function confirm(approve: boolean) {
    if (!approve) {
      setChallenge(null);
      attemptKey.current = null;
      setMessage('Authentication cancelled. Nothing was charged: you can pay again.');
      return;
    }
    if (inFlight.current) return;
    inFlight.current = true;
    setPaying(true);
    try {
      const weft = await browserWeft();
      const { data } = await weft.api.POST('/v1/checkouts/{id}/confirm', {
        params: { path: { id: checkout.id } },
      });
      if (data?.order) {
        setChallenge(null);
        onPaid(data.order);
      } else {
        setMessage('Your bank has not confirmed yet. Try again in a moment.');
      }
    } catch (e) {
      setChallenge(null);
      attemptKey.current = null;
      setMessage(e instanceof WeftProblem && e.status === 402 ? 'Your bank did not confirm the payment. Nothing was charged.' : problemMessage(e));
    } finally {
      inFlight.current = false;
      setPaying(false);
    }
  }

  if (challenge) {
    return (
      <div role="dialog" aria-modal="false" aria-labelledby="tds-title" className="rounded border border-blue-300 bg-blue-50 p-4" data-testid="three-d-secure">
        <h3 id="tds-title" className="font-semibold">Confirm with your bank</h3>
        <p className="mt-1 text-sm">
          Your bank asks you to approve this payment of {formatMoney(checkout.summary.total)} (3-D Secure). With the test provider, approve it here.
        </p>
        <div className="mt-3 flex gap-3">
          <button type="button" disabled={paying} onClick={() => confirm(true)} className="rounded bg-blue-800 px-4 py-2 font-medium text-white hover:bg-blue-700 disabled:bg-neutral-500">
            {paying ? 'Confirming…' : 'Approve payment'}
          </button>
          <button type="button" disabled={paying} onClick={() => confirm(false)} className="rounded border border-neutral-500 px-4 py-2">
            Cancel
          </button>
        </div>
      </div>
    );
  }

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void pay();
      }}
    >
      <fieldset>
        <legend className="text-sm font-medium">Test card</legend>
        <div className="mt-2 space-y-2">
          {TEST_CARDS.map(([t, label]) => (
            <label key={t} className="flex cursor-pointer items-center gap-3 rounded border border-neutral-300 p-3">
              <input type="radio" name="card" value={t} checked={token === t} onChange={() => { setToken(t); attemptKey.current = null; }} />
              <span>{label}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div role="status" aria-live="polite" className="mt-3 min-h-6 text-sm text-red-800" data-testid="payment-message">
        {message}
      </div>
      <button
        type="submit"
        disabled={paying}
        aria-disabled={paying}
        className="mt-2 w-full rounded bg-neutral-900 px-5 py-3 font-medium text-white hover:bg-neutral-700 disabled:cursor-wait disabled:bg-neutral-500"
        data-testid="pay"
      >
        {paying ? 'Paying…' : `Pay ${formatMoney(checkout.summary.total)}`}
      </button>
    </form>
  );
}
