import type { Metadata, Viewport } from 'next';
import { GeistSans } from 'geist/font/sans';
import { CartDrawer } from '@/components/CartDrawer';
import { CartProvider } from '@/components/CartProvider';
import { Header } from '@/components/Header';
import { Footer } from '@/components/Footer';
import { Hydrated } from '@/components/Hydrated';
import { shopCurrencies, siteUrl } from '@/lib/config';
import { currencyBootScript, currencyCss } from '@/lib/currency';
import './globals.css';

export function generateMetadata(): Metadata {
  return {
    metadataBase: new URL(siteUrl()),
    title: { default: 'Weft — clothing for every day', template: '%s · Weft' },
    description: 'Clothing for women, men and kids: tops, bottoms, dresses, outerwear, shoes and accessories.',
    openGraph: { siteName: 'Weft', type: 'website' },
  };
}

export const viewport: Viewport = { themeColor: '#ffffff' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  const currencies = shopCurrencies();
  return (
    // The boot script sets data-currency before React hydrates: not a mismatch to report.
    <html lang="en" className={GeistSans.variable} suppressHydrationWarning>
      <head>
        <style dangerouslySetInnerHTML={{ __html: currencyCss(currencies) }} />
        <script dangerouslySetInnerHTML={{ __html: currencyBootScript(currencies) }} />
      </head>
      <body className="flex min-h-screen flex-col font-sans">
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:shadow">
          Skip to content
        </a>
        <CartProvider>
          <Header />
          <main id="main" className="mx-auto w-full max-w-6xl flex-1 px-4 py-6">
            {children}
          </main>
          <Footer />
          <CartDrawer />
        </CartProvider>
        <Hydrated />
      </body>
    </html>
  );
}
