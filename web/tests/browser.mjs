// The newcomer's path in a real Chromium: search near Piazza del Duomo, read the results on the
// list and the map, open a service, log in as the demo provider, edit it, see the change; and
// axe-core on every page (no serious or critical violations). Screenshots are kept in
// web/test-results/ as artefacts.
//
// Runs the debug build of `trama demo` on a free port with a fresh data directory.

import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(root, "web", "test-results");
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(join(root, "web", "node_modules", "axe-core", "axe.min.js"), "utf8");
const binary = process.env.TRAMA_BIN || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "trama");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

let failures = 0;
function check(ok, what) {
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    failures++;
    console.log(`  FAIL ${what}`);
  }
}

async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result) console.log(`       axe ${v.impact}: ${v.id} (${v.nodes}) ${v.help}`);
  check(bad.length === 0, `${name}: axe-core finds no serious or critical violation`);
}

// Leaflet starts after the page (its script is deferred) and draws the areas on its first
// view: wait for them, for a while, before a screenshot or a count.
async function leafletAreas(page) {
  await page.waitForSelector("#map .leaflet-overlay-pane path", { timeout: 10000 }).catch(() => {});
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}

const dataDir = mkdtempSync(join(tmpdir(), "trama-browser-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(binary, ["--data-dir", dataDir, "demo", "--listen", `127.0.0.1:${port}`], {
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, TRAMA_MAP__TILE_URL: "" },
});
let exited = false;
server.on("exit", () => (exited = true));

async function waitReady() {
  for (let i = 0; i < 600; i++) {
    if (exited) throw new Error("trama exited before it was ready");
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("trama did not become ready in 60 s");
}

let browser;
try {
  await waitReady();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // bypassCSP only lets the test inject axe-core; the pages themselves run under their CSP.
  const context = await browser.newContext({ locale: "it-IT", viewport: { width: 1200, height: 900 }, bypassCSP: true });
  const page = await context.newPage();

  console.log("home");
  await page.goto(base + "/");
  check((await page.getAttribute("html", "lang")) === "it", "Italian by default");
  await shot(page, "01-home");
  await axe(page, "home");

  console.log("search near Piazza del Duomo");
  await page.fill("#q", "assistenza domiciliare");
  await page.selectOption("#luogo", { label: "Piazza del Duomo" });
  await page.selectOption("#raggio", "2");
  await Promise.all([page.waitForURL(/\/cerca\?/), page.click("form.search button[type=submit]")]);
  const count = Number(await page.textContent(".count"));
  check(count > 0, `results found (${count})`);
  const distances = await page.$$eval(".hit .distance", (els) => els.map((e) => parseFloat(e.textContent.replace(",", "."))));
  check(distances.length > 0 && distances.every((d, i) => i === 0 || distances[i - 1] <= d), `sorted by distance: ${distances.join(", ")}`);
  check(distances.every((d) => d <= 2.0), "all within 2 km");
  const badges = await page.$$eval(".hit .badge", (els) => els.map((e) => e.textContent.trim()));
  check(badges.length === distances.length && badges.every((b) => b === "Aperto ora" || b === "Chiuso ora"), "every result says whether it is open now");
  check((await page.$$("#map svg .pt, #map .leaflet-marker-icon")).length > 0, "the map shows the results");
  await leafletAreas(page);
  await shot(page, "02-results");
  check(!(await page.locator("#my-position").isHidden()), "with scripts, the search offers \"use my position\"");
  await page.click("#my-position");
  await page.waitForSelector("#my-position-note", { state: "visible", timeout: 5000 }).catch(() => {});
  check(await page.isVisible("#my-position-note"), "a position the browser refuses to give is said, next to the button");
  const resultAreas = await page.locator("#map .leaflet-overlay-pane path").count();
  check(resultAreas > 0, `the results' map draws the territory's areas, without tiles (${resultAreas})`);
  await axe(page, "results");

  console.log("open the provider's service");
  const link = page.locator(".hit", { hasText: "Il Melograno" }).first().locator("a.name");
  check((await link.count()) === 1, "the demo provider's service is among the results");
  await Promise.all([page.waitForURL(/\/servizi\//), link.click()]);
  const serviceUrl = page.url();
  check((await page.textContent(".provider")).includes("Il Melograno"), "the service page names its provider");
  await leafletAreas(page);
  await shot(page, "03-service");
  const serviceAreas = await page.locator("#map .leaflet-overlay-pane path").count();
  check(serviceAreas > 0, `the service's map shows its place among the territory's areas (${serviceAreas})`);
  await axe(page, "service");

  console.log("log in as the demo provider");
  await page.click("text=Accedi");
  await page.fill("#email", "fornitore@demo.trama.it");
  await page.fill("#password", "trama-demo-2026");
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith("/gestione")), page.click("form.narrow button[type=submit]")]);
  check((await page.textContent("header")).includes("Francesca Colombo"), "signed in");
  await shot(page, "04-manage");
  await axe(page, "manage");

  console.log("edit the service");
  await page.goto(serviceUrl);
  await Promise.all([page.waitForURL(/\/gestione\/servizi\//), page.click("a.edit")]);
  await axe(page, "edit form");
  const newName = "Assistenza domiciliare anziani – Centro storico (aggiornato)";
  await page.fill("#name", newName);
  // Sunday mornings, a price, and Arabic spoken: first seen as the page will appear.
  await page.fill("#su_opens_1", "10:00");
  await page.fill("#su_closes_1", "12:00");
  await page.fill("#cost_amount", "5,50");
  await page.fill("#cost_option", "all'ora");
  await page.check("#lang-ar");
  await shot(page, "05-edit");
  await Promise.all([page.waitForEvent("load"), page.click("form.edit-form button[name=anteprima]")]);
  check((await page.textContent(".notice.preview")).includes("Anteprima"), "the preview says it is not saved yet");
  check((await page.textContent("table.hours")).includes("Domenica"), "and shows Sunday's hours");
  check((await page.textContent("main")).includes("5,50 EUR"), "and the price");
  check((await (await fetch(`${base}/hsds/services?search=aggiornato`)).json()).total_items === 0, "a preview saves nothing");
  await axe(page, "service preview");
  await shot(page, "05b-preview");
  await Promise.all([page.waitForURL(/\/servizi\/.*salvato=1/), page.click(".notice.preview button:not([name])")]);
  check((await page.textContent("h1")).trim() === newName, "the service shows its new name");
  check((await page.textContent(".notice")).includes("Servizio salvato"), "the save is confirmed");
  check((await page.textContent("table.hours")).includes("Domenica"), "the new opening day shows");
  await shot(page, "06-saved");
  await axe(page, "saved service");

  console.log("the change is in the search and the HSDS API");
  await page.goto(base + "/cerca?q=aggiornato&luogo=p0&raggio=2");
  check((await page.textContent(".hits")).includes(newName), "search finds the new name");
  const api = await (await fetch(`${base}/hsds/services?search=aggiornato`)).json();
  check(api.total_items === 1 && api.contents[0].name === newName, "the HSDS API returns it");

  console.log("English");
  await page.goto(base + "/?lang=en");
  check((await page.getAttribute("html", "lang")) === "en", "switched to English");
  check((await page.textContent("h1")).includes("near you"), "English heading");
  await page.goto(base + "/cerca?q=home+care&luogo=p0&raggio=5");
  check((await page.getAttribute("html", "lang")) === "en", "the choice is remembered");
  check(Number(await page.textContent(".count")) > 0, "English words find Italian services");
  await shot(page, "07-english");
  await axe(page, "results in English");

  console.log("without JavaScript");
  const nojs = await browser.newContext({ javaScriptEnabled: false, locale: "it-IT", bypassCSP: true });
  const p2 = await nojs.newPage();
  await p2.goto(base + "/");
  await p2.fill("#q", "mensa");
  await Promise.all([p2.waitForURL(/\/cerca\?/), p2.click("form.search button[type=submit]")]);
  check(Number(await p2.textContent(".count")) > 0, "search works without JavaScript");
  check((await p2.$$("#map svg")).length === 1, "the server-drawn map shows without JavaScript");
  await shot(p2, "08-no-javascript");
  await p2.goto(base + "/cerca?q=assistenza+domiciliare&indirizzo=" + encodeURIComponent("Via Giambellino, 40"));
  check((await p2.locator(".hit .distance").count()) > 0, "an address typed (the demo's gazetteer) gives results with their distance, without JavaScript");
  const drawn = await p2.locator("#map svg path.area").count();
  check(drawn > 0, `without JavaScript the map is drawn by the server, areas included (${drawn})`);

  console.log("not found");
  const r = await page.goto(base + "/non-esiste");
  check(r.status() === 404, "unknown pages are 404");
  await axe(page, "404");

  console.log("the hub operator enters a need for a person with no smartphone (no JavaScript)");
  const opCtx = await browser.newContext({ javaScriptEnabled: false, locale: "it-IT", bypassCSP: true });
  const op = await opCtx.newPage();
  await op.goto(base + "/accedi?next=/sportello");
  await op.fill("#email", "operatore@demo.trama.it");
  await op.fill("#password", "trama-demo-2026");
  await Promise.all([op.waitForURL((u) => u.pathname === "/sportello"), op.click("form.narrow button[type=submit]")]);
  check((await op.textContent("main")).includes("Lucia Ferri"), "the desk lists the people it follows");
  await op.fill("#display_name", "Rosa Galli");
  await op.fill("#consent_reference", "Prot. 2026/2001");
  await Promise.all([op.waitForURL(/\/aiuto\/chiedi\?per=/), op.click("form.stacked button[type=submit]")]);
  check((await op.inputValue("#per")) !== "", "the form is for the registered person");
  await op.fill("#address", "Via Giambellino 40");
  await op.fill("#description", "Spesa del martedì mattina");
  const area = await op.$$eval("#area option", (os) => (os.find((o) => o.textContent.includes("Giambellino")) || os[0]).value);
  await op.selectOption("#area", area);
  await op.selectOption("#day", "tue");
  await Promise.all([op.waitForURL(/\/aiuto\/richieste\//), op.click("form.stacked button[type=submit]")]);
  const needUrl = op.url();
  check((await op.textContent("main")).includes("Via Giambellino 40"), "the operator sees the address");
  check((await op.textContent("main")).includes("Rosa Galli"), "and the person it is for");
  // Nobody has taken it yet: the operator may still change it for her.
  check((await op.$("a[href$='/modifica']")) !== null, "a request nobody has taken yet can be changed");
  await op.goto(needUrl + "/modifica");
  check((await op.inputValue("#description")) === "Spesa del martedì mattina", "its form opens as the request is");
  await op.fill("#description", "Spesa del martedì mattina, con la lista");
  await Promise.all([op.waitForURL(/fatto=modificata/), op.click("form.stacked button[type=submit]")]);
  check((await op.textContent("main")).includes("con la lista"), "and the change is saved");
  const rows = await op.$$("table.manage tbody tr");
  check(rows.length >= 1, `volunteers are suggested (${rows.length})`);
  await shot(op, "09-need-with-suggestions");
  const chosen = (await rows[0].textContent()).trim().split(/\s{2,}|\n/)[0];
  // The form posts and comes back to the same page: wait for the new load, not the URL (the
  // URL already matches, so waiting for it would read the old page).
  await Promise.all([op.waitForEvent("load"), rows[0].$eval("button", (b) => b.click())]);
  check((await op.textContent("main")).includes("In attesa della risposta del volontario"), `a match is proposed to ${chosen}, and its state is in words`);

  console.log("a stranger sees only the kind of help, the area and the time");
  const anon = await (await browser.newContext({ locale: "it-IT", bypassCSP: true })).newPage();
  await anon.goto(needUrl);
  check(!(await anon.textContent("main")).includes("Giambellino 40"), "no address for strangers");
  check(!(await anon.textContent("main")).includes("Rosa Galli"), "no name for strangers");
  await axe(anon, "need (public view)");

  console.log("pages of neighbourly help pass axe");
  for (const [path, name] of [["/aiuto", "help home"], ["/aiuto/chiedi", "ask form"], [new URL(needUrl).pathname + "/modifica", "changing a request"], ["/aiuto/offri", "offer form"], ["/sportello", "desk"], ["/sportello/condivisi", "shared services"], ["/sportello/condivisi?lang=en&tariffa=x", "shared services, a rate refused, in English"], ["/aiuto/mappa", "needs map"], ["/hub", "hubs"], ["/aiuto?lang=en", "help home in English"], ["/io/profilo", "my profile"], ["/password-dimenticata", "forgotten password"], ["/password-nuova?token=prova", "new password"]]) {
    await page.goto(base + path);
    await axe(page, name);
  }
  console.log("a hub's room is booked without JavaScript");
  await page.goto(base + "/hub");
  const roomLink = await page.$("a[href^='/hub/sale/']");
  check(roomLink !== null, "the hubs page links its rooms");
  const roomUrl = base + (await roomLink.getAttribute("href")) + "?data=2030-12-03";
  await page.goto(roomUrl);
  await axe(page, "room slots");
  const bookForm = await page.$("form[action$='/prenota']");
  if (bookForm) {
    await bookForm.$eval("input[name=purpose]", (i) => (i.value = "Prova del coro"));
    await Promise.all([page.waitForURL(/prenotato=1/), bookForm.$eval("button", (b) => b.click())]);
    // The page speaks the language chosen last (English, since the help home above).
    const said = await page.textContent("main");
    check(said.includes("Prenotazione fatta") || said.includes("Booked."), "the booking is confirmed");
    check((await page.$$("form[action$='/prenota']")).length === (await page.$$("tbody tr")).length - 1, "the booked slot has no form any more");
  } else {
    check(false, "a signed-in person sees a booking form on a free slot");
  }
  await page.goto(base + "/aiuto/mappa");
  check(!(await page.content()).includes("45.4531"), "the map carries no exact point");
  await shot(page, "10-needs-map");

  console.log("the register: public page, flows, and a volunteer's contributions (no JavaScript)");
  const regCtx = await browser.newContext({ javaScriptEnabled: false, locale: "it-IT", bypassCSP: true });
  const reg = await regCtx.newPage();
  await reg.goto(base + "/registro");
  check((await reg.textContent("#register-checkpoint")).includes("trama.invalid/"), "the public register shows the signed checkpoint");
  check(/\+[0-9a-f]{8}\+/.test(await reg.textContent("#register-key")), "and the key to verify it with");
  check(!(await reg.content()).includes("urn:trama:person:"), "the public register names nobody");
  await shot(reg, "11-register");
  await reg.goto(base + "/registro/flussi");
  check((await reg.$$("#flows-table tbody tr")).length >= 12, "the flows table has a row per resource and month");
  check((await reg.$$("svg.chart rect")).length > 0, "and a chart of the same figures");
  await shot(reg, "12-flows");
  const apiFlows = await (await fetch(base + "/register/flows")).json();
  const energy = apiFlows.find((r) => r.resource === "urn:trama:resource:energy");
  check(energy && (await reg.textContent("#flows-table")).includes(String(Math.round(energy.inflow))), "the page shows the figures the API computes");
  await reg.goto(base + "/accedi?next=/io/contributi");
  await reg.fill("#email", "volontario@demo.trama.it");
  await reg.fill("#password", "trama-demo-2026");
  await Promise.all([reg.waitForURL((u) => u.pathname === "/io/contributi"), reg.click("form.narrow button[type=submit]")]);
  const given = parseFloat((await reg.textContent("#hours-given")).replace(",", "."));
  check(given >= 100, `the volunteer sees his hours given (${given})`);
  await shot(reg, "13-my-contributions");
  await reg.goto(base + "/aiuto");
  const onHelp = parseFloat((await reg.textContent("#hours-given")).replace(",", "."));
  check(onHelp === given, `the help page gives the same hours as his contributions (${onHelp} and ${given})`);
  const st = await reg.request.get(base + "/io/contributi/estratto.json");
  check(st.ok() && (await st.json()).format === "trama-statement/v1", "and downloads his statement");
  await reg.goto(base + "/io/contributi?lang=en");
  check((await reg.textContent("h1")).includes("My contributions"), "in English too");
  // axe-core needs scripts: the same pages again in a context that runs them.
  const regJs = await (await browser.newContext({ locale: "it-IT", bypassCSP: true })).newPage();
  for (const [path, name] of [["/registro", "public register"], ["/registro/flussi", "flows"], ["/registro?lang=en", "public register in English"]]) {
    await regJs.goto(base + path);
    await axe(regJs, name);
  }
  await regJs.goto(base + "/accedi?next=/io/contributi");
  await regJs.fill("#email", "volontario@demo.trama.it");
  await regJs.fill("#password", "trama-demo-2026");
  await Promise.all([regJs.waitForURL((u) => u.pathname === "/io/contributi"), regJs.click("form.narrow button[type=submit]")]);
  await axe(regJs, "my contributions (English, the language chosen last)");
  await regJs.goto(base + "/io/contributi?lang=it");
  await axe(regJs, "my contributions");

  // Machine words an Italian page must not show: status codes and raw timestamps.
  // Coordinates where a place name belongs ("≈ 45.4531, 9.1402") count too.
  const rawWords = /\b(open|matched|accepted_by_requester|accepted_by_volunteer|done_by_volunteer|done_by_requester|scheduled|confirmed|no_show)\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\b4[45]\.\d{3,}\b/;
  // In English the words are English, but codes, timestamps and coordinates are as wrong.
  const rawCodes = /\b[a-z]+_[a-z_]+\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\b4[45]\.\d{3,}\b/;
  console.log("care budgets: the case manager books from Mr. Rossi's plan, the cooperative delivers, he sees it, the municipality controls (no JavaScript)");
  // Signs `email` in, in a fresh context, and lands on `next`.
  async function signedIn(email, next, javaScriptEnabled) {
    const ctx = await browser.newContext({ javaScriptEnabled, locale: "it-IT", bypassCSP: true });
    const pg = await ctx.newPage();
    await pg.goto(base + "/accedi?next=" + encodeURIComponent(next));
    await pg.fill("#email", email);
    await pg.fill("#password", "trama-demo-2026");
    await Promise.all([pg.waitForURL((u) => u.pathname === next), pg.click("form.narrow button[type=submit]")]);
    return pg;
  }
  const cm = await signedIn("casemanager@demo.trama.it", "/sportello/budget", false);
  check((await cm.textContent("#caseload")).includes("Mario Rossi"), "the case manager's caseload lists Mr. Rossi");
  await Promise.all([cm.waitForEvent("load"), cm.click("#caseload a:has-text('Mario Rossi')")]);
  const fileUrl = cm.url();
  check((await cm.textContent("h1")).includes("Mario Rossi"), "his file opens");
  check((await cm.$$("#allocations tbody tr")).length === 3, "with his three allocations");
  check((await cm.textContent("#proposal")).includes("altre misure costano meno"), "the proposal explains why a programme is not used");
  check((await cm.$$("form[action$='/assegna'] select[name=programme_id] option")).length >= 1, "the case manager may grant him what is left of the programme her office was delegated");
  await shot(cm, "14-budget-file");
  const bookC1 = await cm.$("#to-book form:has(input[name=category][value='C1'])");
  check(bookC1 !== null, "December's home care can be booked in one click");
  const before = (await cm.$$("#bookings tbody tr")).length;
  await Promise.all([cm.waitForURL(/fatto=1/), bookC1.$eval("button", (b) => b.click())]);
  check((await cm.textContent("[role=status]")).includes("Fatto"), "the booking is confirmed");
  check((await cm.$$("#bookings tbody tr")).length === before + 1, "and listed among his bookings");
  check((await cm.$("#to-book form:has(input[name=category][value='C1'])")) === null, "and is not offered again");
  // Every month booked shows, in the plan, the programme it was booked from.
  const mismatched = await cm.evaluate(() => {
    const booked = [...document.querySelectorAll("#bookings tbody tr")].map((r) => [...r.cells].slice(0, 3).map((c) => c.textContent.trim()).join("|"));
    return [...document.querySelectorAll("#to-book tbody tr")]
      .filter((r) => !r.querySelector("form"))
      .map((r) => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim(), r.cells[2].childNodes[0].textContent.trim()].join("|"))
      .filter((row) => !booked.includes(row));
  });
  check(mismatched.length === 0, `the plan's booked months name the programme they were booked from (${mismatched.join("; ") || "all"})`);

  const coop = await signedIn("fornitore@demo.trama.it", "/gestione/prenotazioni", false);
  const rossiRow = await coop.$("#provider-bookings tbody tr:has-text('Mario Rossi'):has(form)");
  check(rossiRow !== null, "the cooperative sees the booking, by name");
  check(!(await coop.textContent("main")).includes("FNA"), "and nothing of who pays");
  await shot(coop, "15-provider-bookings");
  await Promise.all([coop.waitForURL(/fatto=1/), rossiRow.$eval("form button", (b) => b.click())]);
  check((await coop.textContent("[role=status]")).includes("Erogazione registrata"), "the delivery is recorded");

  const rossi = await signedIn("beneficiario@demo.trama.it", "/io/budget", false);
  const delivered = await rossi.$$eval("#bookings tbody tr", (rs) => rs.filter((r) => r.textContent.includes("erogato")).length);
  check(delivered === 2, `Mr. Rossi sees both home-care months delivered (${delivered})`);
  check((await rossi.textContent("#looks")).includes("Paola Esposito"), "and that his case manager looked at his file");
  await shot(rossi, "16-my-budget");
  await rossi.goto(base + "/io/dati");
  check((await rossi.textContent("main")).includes("Scarica i miei dati"), "Mr. Rossi finds how to download his data");
  const exported = await rossi.request.get(base + (await rossi.getAttribute("main a[download]", "href")));
  const doc = exported.ok() ? await exported.json() : {};
  check(doc.account?.email === "beneficiario@demo.trama.it" && Array.isArray(doc.care_budget?.allocations), "and the download is everything about him, his budget included");
  check((await rossi.$$("form[action='/io/dati/cancella'] input[type=password]")).length === 1, "erasure asks for his password");
  await shot(rossi, "16b-my-data");

  const mun = await signedIn("territorio@demo.trama.it", "/budget/cruscotto", false);
  await mun.goto(base + "/budget/cruscotto?dal=2025-12&al=2026-12");
  check((await mun.textContent("#alert-double h3")).includes("(1)"), "the dashboard warns of the home care paid twice");
  check((await mun.textContent("#alert-billed h3")).includes("(1)"), "and of the bill beyond its booking");
  check((await mun.$$("#by-area tbody tr")).length >= 9, "spending by Municipio");
  check((await mun.$$("svg.chart rect")).length > 12, "charts of the same figures");
  check(!(await mun.content()).includes("Mario Rossi"), "the dashboard names nobody");
  await shot(mun, "17-dashboard");
  const csv = await mun.request.get(base + (await mun.getAttribute("#statements a", "href")));
  check(csv.ok() && (await csv.text()).startsWith("funder,programme,area,"), "a funder's CSV statement downloads");
  await Promise.all([mun.waitForEvent("load"), mun.click("a[href='/budget/programmi']")]);
  check((await mun.$$("table.manage tbody tr")).length >= 3, "the dashboard leads to the funders' programmes and their rules");
  check((await mun.$$("form[action='/budget/programmi'] input[name=categories]")).length > 20, "a programme is recorded with its categories ticked, not as JSON");
  await shot(mun, "17b-programmes");

  console.log("campaigns: the territory opens one for a Municipio, the desk takes calls for it, the territory closes it (no JavaScript)");
  await Promise.all([mun.waitForEvent("load"), mun.click("nav a[href='/campagne']")]);
  check((await mun.textContent("main")).includes("In corso"), "the demo's seasonal campaign is running");
  await Promise.all([mun.waitForEvent("load"), mun.click("a[href='/campagne/nuova']")]);
  await mun.fill("#name", "Freddo di gennaio");
  await mun.selectOption("#kind", "flu_season");
  const inAMonth = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  await mun.fill("#ends_on", "2020-01-01");
  await mun.check("#area-8");
  await Promise.all([mun.waitForEvent("load"), mun.click("form[action='/campagne/nuova'] button[type=submit]")]);
  check((await mun.textContent("[role=alert]")).includes("Ultimo giorno"), "a last day in the past is named, in Italian");
  check((await mun.inputValue("#name")) === "Freddo di gennaio" && (await mun.isChecked("#area-8")), "and what was typed is kept");
  await mun.fill("#ends_on", inAMonth);
  await Promise.all([mun.waitForURL(/fatto=aperta/), mun.click("form[action='/campagne/nuova'] button[type=submit]")]);
  check((await mun.textContent("[role=status]")).includes("Campagna aperta"), "the campaign is opened");
  check((await mun.textContent("main")).includes("Municipio 8"), "for the district chosen, in words");
  const found = ((await mun.textContent("main")) || "").match(rawWords);
  check(!found, `the campaign's page shows no machine word or raw timestamp (${found ? found[0] : "none"})`);
  const campaignUrl = mun.url();
  await shot(mun, "18-campaign");
  const desk = await signedIn("operatore@demo.trama.it", "/sportello", false);
  check((await desk.$$eval("#campagna option", (os) => os.map((o) => o.textContent))).includes("Freddo di gennaio"), "the desk can take calls for the new campaign");
  await Promise.all([mun.waitForURL(/fatto=chiusa/), mun.click("form[action$='/chiudi'] button")]);
  check((await mun.textContent("main")).includes("Conclusa"), "the territory closes it");
  await desk.reload();
  check(!(await desk.$$eval("#campagna option", (os) => os.map((o) => o.textContent))).includes("Freddo di gennaio"), "and the desk no longer offers it");

  console.log("the care budget pages pass axe");
  // axe-core needs scripts: the same sessions (no new logins) in contexts that run them.
  for (const [pg, paths] of [
    [cm, ["/sportello/budget", new URL(fileUrl).pathname, new URL(fileUrl).pathname + "/piano"]],
    [coop, ["/gestione/prenotazioni"]],
    [rossi, ["/io/budget", "/io/budget?lang=en", "/io/dati", "/io/dati?lang=en"]],
    [mun, ["/budget/cruscotto", "/budget/cruscotto?lang=en&dal=2025-12&al=2026-12", "/budget/programmi", "/budget/programmi?lang=en", "/campagne", "/campagne?lang=en", "/campagne/nuova", new URL(campaignUrl).pathname]],
  ]) {
    const ctx = await browser.newContext({ storageState: await pg.context().storageState(), locale: "it-IT", bypassCSP: true });
    const js = await ctx.newPage();
    for (const path of paths) {
      await js.goto(base + path);
      await axe(js, path);
    }
  }

  console.log("every role's home: signing in lands where the person works; at 375 px, in Italian and English, with and without JavaScript");
  const narrow = async (storageState, path, javaScriptEnabled) => {
    const c = await browser.newContext({ storageState, javaScriptEnabled, viewport: { width: 375, height: 800 }, locale: "it-IT" });
    const p = await c.newPage();
    await p.goto(base + path);
    const over = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    return { c, p, over };
  };
  for (const [who, home] of [
    ["cittadino", "/aiuto"], ["volontario", "/aiuto"], ["operatore", "/sportello"],
    ["casemanager", "/sportello/budget"], ["hub", "/hub"], ["fornitore", "/gestione"],
    ["territorio", "/budget/cruscotto"], ["revisore", "/registro"], ["beneficiario", "/io/budget"],
  ]) {
    const ctx = await browser.newContext({ locale: "it-IT", bypassCSP: true });
    const pg = await ctx.newPage();
    await pg.goto(base + "/accedi");
    await pg.fill("#email", `${who}@demo.trama.it`);
    await pg.fill("#password", "trama-demo-2026");
    await Promise.all([pg.waitForURL((u) => u.pathname === home, { timeout: 20000 }).catch(() => {}), pg.click("form.narrow button[type=submit]")]);
    check(new URL(pg.url()).pathname === home, `${who} signs in and lands on ${home} (${new URL(pg.url()).pathname})`);
    check((await pg.$(`nav a[href='${home}'][aria-current=page]`)) !== null, `${who}'s menu reaches the home and marks it`);
    await axe(pg, `${who}'s home`);
    await shot(pg, `home-${who}`);
    if (who === "hub") {
      // The hub manager runs her hub from its page: what it offers, its hours, its rooms.
      const run = await pg.$("a[href$='/gestione']");
      check(run !== null, "the hub manager finds the page that runs her hub");
      if (run) {
        await Promise.all([pg.waitForEvent("load"), run.click()]);
        check((await pg.$$("form[action$='/gestione'] input[name=functions]")).length >= 6, "what the hub is, hours and desk in one form");
        check((await pg.$$("form[action$='/sale'] input[name=slot_minutes]")).length === 1, "and a room is added in another");
        await axe(pg, "running a hub");
        await shot(pg, "hub-manage");
      }
    }
    if (who === "volontario") {
      // He changes one of his offers: the form opens as the offer is, and keeps his place.
      await pg.goto(base + "/aiuto");
      const mine = await pg.$("a[href^='/aiuto/offerte/']");
      check(mine !== null, "the volunteer's help page lists his offers");
      if (mine) {
        await Promise.all([pg.waitForEvent("load"), mine.click()]);
        await Promise.all([pg.waitForEvent("load"), pg.click("a[href$='/modifica']")]);
        check((await pg.inputValue("#area")) === "", "the offer's form keeps its place unless he picks another");
        await axe(pg, "changing an offer");
        await pg.fill("#description", "Spesa e due chiacchiere, anche il sabato");
        await Promise.all([pg.waitForURL(/fatto=modificata/), pg.click("form.stacked button[type=submit]")]);
        check((await pg.textContent("[role=status]")).includes("Offerta modificata"), "the change is confirmed");
      }
    }
    if (who === "cittadino" || who === "volontario") {
      await pg.goto(base + "/io/profilo");
      await axe(pg, `${who}'s profile`);
    }
    const state = await ctx.storageState();
    for (const lang of ["it", "en"]) {
      for (const js of [true, false]) {
        const { c, p, over } = await narrow(state, `${home}?lang=${lang}`, js);
        check(over <= 0, `${who}'s home at 375 px, ${lang}, ${js ? "with" : "without"} JavaScript, does not scroll sideways (${over} px)`);
        const found = ((await p.innerText("main")) || "").match(lang === "it" ? rawWords : rawCodes);
        check(!found, `${who}'s home in ${lang} shows no machine word, raw timestamp or coordinates (${found ? found[0] : "none"})`);
        if (lang === "it" && !js) await shot(p, `home-${who}-375`);
        await c.close();
      }
    }
    // Forms and long identifiers fit a phone too.
    const more = { cittadino: ["/aiuto/chiedi", "/aiuto/offri"], volontario: ["/io/contributi"] }[who] || [];
    for (const path of more) {
      const { c, over } = await narrow(state, path, false);
      check(over <= 0, `${path} as ${who} at 375 px does not scroll sideways (${over} px)`);
      await c.close();
    }
    await ctx.close();
  }
  console.log("in English, without JavaScript: a citizen asks for help, changes it, and sees it in words");
  {
    const ctx = await browser.newContext({ javaScriptEnabled: false, locale: "en-GB", bypassCSP: true });
    const en = await ctx.newPage();
    await en.goto(base + "/accedi?lang=en&next=" + encodeURIComponent("/aiuto/chiedi"));
    check((await en.getAttribute("html", "lang")) === "en", "the sign-in page is in English");
    await en.fill("#email", "cittadino@demo.trama.it");
    await en.fill("#password", "trama-demo-2026");
    await Promise.all([en.waitForURL((u) => u.pathname === "/aiuto/chiedi"), en.click("form.narrow button[type=submit]")]);
    await en.fill("#description", "Help carrying the shopping upstairs");
    await en.fill("#address", "Via Padova 36");
    const enArea = await en.$$eval("#area option", (os) => (os.find((o) => o.textContent.includes("Loreto")) || os[1] || os[0]).value);
    await en.selectOption("#area", enArea);
    await en.selectOption("#day", "thu");
    await Promise.all([en.waitForURL(/\/aiuto\/richieste\//), en.click("form.stacked button[type=submit]")]);
    const said = await en.innerText("main");
    const enNeed = new URL(en.url()).pathname;
    check(said.includes("Help carrying the shopping upstairs"), "the request is filed");
    check(/Thursday/.test(said), "its time is in English words");
    const code = said.match(rawCodes);
    check(!code, `the request's page shows no code, raw timestamp or coordinates (${code ? code[0] : "none"})`);
    await shot(en, "19-english-request");
    await Promise.all([en.waitForEvent("load"), en.click("a[href$='/modifica']")]);
    await en.fill("#description", "Help carrying the shopping upstairs, on Thursdays");
    await Promise.all([en.waitForURL(/fatto=modificata/), en.click("form.stacked button[type=submit]")]);
    check((await en.innerText("main")).includes("on Thursdays"), "and its change is saved");
    await en.goto(base + "/aiuto");
    check((await en.$(`main a[href='${enNeed}']`)) !== null, "her help page lists it");
    const js = await (await browser.newContext({ storageState: await ctx.storageState(), locale: "en-GB", bypassCSP: true })).newPage();
    await js.goto(en.url());
    await axe(js, "a citizen's help page in English");
    await ctx.close();
  }

  console.log("in English, without JavaScript: the desk registers a caller and files her request; the case manager reads a file");
  {
    const ctx = await browser.newContext({ javaScriptEnabled: false, locale: "en-GB", bypassCSP: true });
    const op = await ctx.newPage();
    await op.goto(base + "/accedi?lang=en&next=" + encodeURIComponent("/sportello"));
    await op.fill("#email", "operatore@demo.trama.it");
    await op.fill("#password", "trama-demo-2026");
    await Promise.all([op.waitForURL((u) => u.pathname === "/sportello"), op.click("form.narrow button[type=submit]")]);
    check((await op.getAttribute("html", "lang")) === "en", "the desk speaks English");
    await op.fill("#display_name", "Amina Haddad");
    await op.fill("#consent_reference", "Prot. 2026/2002");
    await Promise.all([op.waitForURL(/\/aiuto\/chiedi\?per=/), op.click("form.stacked button[type=submit]")]);
    await op.fill("#address", "Via Padova 80");
    await op.fill("#description", "A lift to the clinic on Friday");
    await op.selectOption("#category", "H3");
    await op.selectOption("#day", "fri");
    await Promise.all([op.waitForURL(/\/aiuto\/richieste\//), op.click("form.stacked button[type=submit]")]);
    const said = await op.innerText("main");
    check(said.includes("Amina Haddad") && said.includes("Friday"), "the request is filed for her, its time in English");
    const code = said.match(rawCodes);
    check(!code, `the desk's request page shows no code, raw timestamp or coordinates (${code ? code[0] : "none"})`);
    await shot(op, "20-english-desk-request");
    const cmCtx = await browser.newContext({ javaScriptEnabled: false, locale: "en-GB", bypassCSP: true });
    const cmEn = await cmCtx.newPage();
    await cmEn.goto(base + "/accedi?lang=en&next=" + encodeURIComponent("/sportello/budget"));
    await cmEn.fill("#email", "casemanager@demo.trama.it");
    await cmEn.fill("#password", "trama-demo-2026");
    await Promise.all([cmEn.waitForURL((u) => u.pathname === "/sportello/budget"), cmEn.click("form.narrow button[type=submit]")]);
    await Promise.all([cmEn.waitForEvent("load"), cmEn.click("#caseload a:has-text('Mario Rossi')")]);
    const file = await cmEn.innerText("main");
    check((await cmEn.getAttribute("html", "lang")) === "en" && file.includes("Mario Rossi"), "the case manager opens Mr. Rossi's file in English");
    const fileCode = file.match(rawCodes);
    check(!fileCode, `his file in English shows no code, raw timestamp or coordinates (${fileCode ? fileCode[0] : "none"})`);
    await shot(cmEn, "21-english-budget-file");
    await ctx.close();
    await cmCtx.close();
  }

  for (const path of ["/", "/cerca?q=assistenza+domiciliare&luogo=p0"]) {
    const { c, over } = await narrow(undefined, path, true);
    check(over <= 0, `${path} at 375 px does not scroll sideways (${over} px)`);
    await c.close();
  }
  {
    const { c, p, over } = await narrow(await cm.context().storageState(), new URL(fileUrl).pathname, false);
    check(over <= 0, `a person's file at 375 px does not scroll sideways (${over} px)`);
    await shot(p, "14b-budget-file-375");
    await c.close();
  }
} catch (e) {
  failures++;
  console.error(e);
} finally {
  if (browser) await browser.close();
  server.kill("SIGINT");
  await new Promise((r) => (exited ? r() : server.on("exit", r)));
  rmSync(dataDir, { recursive: true, force: true });
}

if (failures > 0) {
  console.log(`\nbrowser test: ${failures} failure(s); screenshots in web/test-results/`);
  process.exit(1);
}
console.log("\nbrowser test passed; screenshots in web/test-results/");
