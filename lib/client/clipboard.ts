/**
 * Copying text to the clipboard. The async Clipboard API only exists in secure contexts, and
 * self-hosted Concord is often reached over plain http on a LAN address, where
 * `navigator.clipboard` is undefined; there the old `execCommand('copy')` still works.
 */
export async function copyText(text: string): Promise<void> {
  if (typeof navigator !== 'undefined' && navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  const previousFocus = document.activeElement as HTMLElement | null;
  area.select();
  try {
    if (!document.execCommand('copy')) throw new Error('the browser refused to copy');
  } finally {
    area.remove();
    previousFocus?.focus();
  }
}
