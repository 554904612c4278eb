import { connection } from 'next/server';
import { browserApiUrl } from '@/lib/config';

// Read per request: the API's address is the running server's, not the build's.
export async function GET() {
  await connection();
  return Response.json({ apiUrl: browserApiUrl() }, { headers: { 'Cache-Control': 'no-store' } });
}
