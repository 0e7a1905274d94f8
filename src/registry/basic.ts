// Basic credentials as an Authorization value (for a Basic challenge, and for the token realm).
import { rememberSecret } from "../redact/redact.ts";

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function basicAuthorization(username: string, password: string): string {
  const encoded = base64(`${username}:${password}`);
  rememberSecret(password);
  rememberSecret(encoded);
  return `Basic ${encoded}`;
}
