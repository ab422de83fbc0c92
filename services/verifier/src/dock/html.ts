// The dock page's HTML shell (DESIGN §8a GET /dock). Static: every dynamic
// value is rendered by the script with textContent, never as markup.

/** The document served at GET /dock; the script fills it in. */
export const DOCK_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Receiving dock · Provenant</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dock/app.css">
<script type="module" src="/dock/app.js"></script>
</head>
<body>
<a class="skip" href="#scan">Skip to the scan field</a>
<header class="bar">
  <h1>Receiving dock</h1>
  <p id="who" class="who" aria-live="polite">Not signed in</p>
  <nav id="modes" class="modes" aria-label="Mode" hidden>
    <button type="button" data-mode="verify" aria-pressed="true">Verify <kbd>Alt+1</kbd></button>
    <button type="button" data-mode="receive" aria-pressed="false">Receive <kbd>Alt+2</kbd></button>
    <button type="button" data-mode="offline" aria-pressed="false">Offline <kbd>Alt+3</kbd></button>
  </nav>
  <button type="button" id="mute" class="quiet" aria-pressed="false">Mute<span class="wide-only"> sounds</span></button>
  <button type="button" id="signout" class="quiet" hidden>Sign out</button>
</header>
<p id="net" class="net" role="status" hidden></p>
<main id="main">
  <section id="signin" class="card signin" aria-labelledby="signin-h">
    <h2 id="signin-h">Sign in</h2>
    <p>Enter the party token your administrator gave you: the service tells this page which site it belongs to. The token stays in this browser tab only.</p>
    <form id="signin-form" novalidate>
      <label for="token">Party token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required>
      <button type="submit" id="signin-go" class="main">Sign in</button>
      <p id="signin-error" class="error" role="alert"></p>
    </form>
    <p class="hint">No connection? Verify a bundle file in this browser:</p>
    <button type="button" id="offline-only" class="quiet">Offline verification</button>
  </section>

  <div id="work" class="work" hidden>
    <div class="left">
      <form id="scan-form" class="scan" novalidate autocomplete="off">
        <label for="scan" id="scan-label">Scan or type a code, then Enter</label>
        <div class="scanrow">
          <input id="scan" name="scan" autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="scan-help scan-error">
          <button type="submit" id="scan-go" class="main">Verify</button>
          <button type="button" id="camera-go" class="main" aria-controls="camera" aria-expanded="false">Camera</button>
        </div>
        <p id="scan-help" class="hint">Barcode scanner or Camera: GS1 DataMatrix, GS1-128, a QR Digital Link; or type (01)…(21)…. Ctrl+] types a GS separator. Esc clears.</p>
        <p id="scan-error" class="error" role="alert"></p>
      </form>
      <section id="camera" class="camera card" aria-label="Camera scanner" hidden>
        <video id="camera-video" playsinline muted aria-label="Camera picture: hold the barcode in the frame"></video>
        <p id="camera-status" class="hint" role="status"></p>
        <button type="button" id="camera-stop">Stop camera</button>
      </section>

      <section id="receive" class="card" aria-labelledby="receive-h" hidden>
        <h2 id="receive-h">Receive a shipment</h2>
        <form id="receive-form" class="grid2" novalidate>
          <div><label for="shipment">Shipment id (ASN)</label><input id="shipment" name="shipment" autocomplete="off" required></div>
          <div><label for="from">Sender GLN</label><input id="from" name="from" inputmode="numeric" maxlength="13" autocomplete="off" required></div>
          <div><label for="condition">Condition</label>
            <select id="condition" name="condition"><option value="ok">Good condition</option><option value="damaged">Damaged</option></select></div>
        </form>
        <p id="receive-filled" class="hint" aria-live="polite"></p>
        <p class="hint">Scan every pallet, case or pack that arrived into the scan field; each is verified as you go. The shipment and sender fill in from the first scan.</p>
        <h3 id="arrived-h">Scanned for this shipment: <span id="arrived-count">0</span></h3>
        <ul id="arrived" class="arrived" aria-labelledby="arrived-h"></ul>
        <div class="actions">
          <button type="button" id="receive-confirm" class="main">Confirm receipt</button>
          <button type="button" id="receive-reset" class="quiet">Start a new shipment</button>
        </div>
        <p id="receive-error" class="error" role="alert"></p>
        <div id="reconciliation" aria-live="polite"></div>
      </section>

      <section id="offline" class="card" aria-labelledby="offline-h" hidden>
        <h2 id="offline-h">Offline verification</h2>
        <p>Verify a bundle file the shipper handed over, here in this browser, without the service: scan the item, choose the bundle file. It is checked against the trust of your Provenant service (its log key and registry key).</p>
        <form id="offline-form" class="grid2" novalidate>
          <div class="wide"><label for="offline-scan">Scan the item in your hands</label><div class="scanrow"><input id="offline-scan" autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="offline-scan-help"><button type="button" id="offline-camera" class="main" aria-controls="camera" aria-expanded="false">Camera</button></div><p id="offline-scan-help" class="hint">The bundle is checked against this code: a bundle for another product is rejected.</p></div>
          <div><label for="bundle-file">Bundle file (.json)</label><input id="bundle-file" type="file" accept=".json,application/json"></div>
          <div><label for="trust-file">Trust file (.json, optional once kept)</label><input id="trust-file" type="file" accept=".json,application/json"></div>
          <div><label for="offline-gln">Verify as GLN</label><input id="offline-gln" inputmode="numeric" maxlength="13" autocomplete="off"></div>
          <div class="end"><button type="submit" id="offline-go" class="main">Verify offline</button></div>
        </form>
        <p class="hint" id="trust-kept" aria-live="polite"></p>
        <p class="hint" id="trust-link-p">While online: <a id="trust-link" href="/dock/trust.json" download="provenant-trust.json">download this service's trust file</a>.</p>
        <p id="offline-error" class="error" role="alert"></p>
      </section>

      <section id="result" class="result" aria-live="polite" aria-atomic="false" tabindex="-1"></section>
    </div>
    <aside class="right" aria-labelledby="history-h">
      <h2 id="history-h">This session's scans</h2>
      <p id="history-empty" class="hint">Nothing scanned yet.</p>
      <ol id="history" class="history" reversed></ol>
    </aside>
  </div>
</main>
<noscript><p class="card">The receiving dock page needs JavaScript.</p></noscript>
</body>
</html>
`;
