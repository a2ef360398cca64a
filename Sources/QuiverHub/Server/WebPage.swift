import Foundation
import QuiverModel
import QuiverStore

/// The registry as one self-contained HTML page: its adapter and fusion versions grouped by task
/// (task, version, tags, kind, architecture, parameters, head parameters, sizes, base, members,
/// created), `pageSize` at a time with links to the pages before and after, a search box
/// (`?q=WORDS`, over every version) also filtering the shown rows as one types, sortable columns,
/// and the base models. No external asset; the inline style and script are allowed by hash in the
/// Content-Security-Policy.
struct WebPage {
    /// Versions per page: the page of a registry of 10,000 stays a few hundred kilobytes.
    static let pageSize = 100

    var namespace: String
    /// `http://HOST[:PORT]` as the browser addressed the server.
    var origin: String
    /// Every version, by task then age (the summary counts them all).
    var artifacts: [ArtifactSummary]
    var bases: [BaseModelRow]
    var query = Query()

    /// What `GET /` asks for: `?page=N` (from 1; past the last page is the last page) and `?q=WORDS`
    /// (versions holding every word, in any case, in their task, version, kind, architecture,
    /// base, description, tags, labels or members). Other parameters are ignored.
    struct Query: Equatable {
        var page = 1
        var text = ""

        var words: [String] { text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init) }

        init(page: Int = 1, text: String = "") {
            self.page = page
            self.text = text
        }

        /// Refuses a page that is not a whole number from 1 and a `q` over 256 bytes; a page
        /// number with more digits than an `Int` holds is past the last page.
        init(parameters: [(key: String, value: String)]) throws(APIError) {
            for (key, value) in parameters {
                switch key {
                case "page":
                    guard !value.isEmpty, value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                          value.utf8.contains(where: { $0 != UInt8(ascii: "0") })
                    else { throw .invalidRequest("page must be a whole number from 1, not '\(value.prefix(40))'") }
                    page = Int(value) ?? .max
                case "q":
                    guard value.utf8.count <= 256 else { throw .invalidRequest("query parameter q is longer than 256 bytes") }
                    text = value
                default: continue
                }
            }
        }
    }

    /// The page's `Content-Security-Policy`: nothing but its own inline style and script, and its search form.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src '\(hashSource(style))'; script-src '\(hashSource(script))'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func render() -> String {
        let remote = origin + "/" + namespace
        let fusions = artifacts.filter { $0.kind == .fusion }.count
        var html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Quiver · \(e(namespace))</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <header>
            <h1>Quiver <span class="namespace">\(e(namespace))</span></h1>
            <p class="summary">\(Self.counted(Set(artifacts.map(\.task)).count, "task")) · \(Self.counted(artifacts.count - fusions, "adapter version")) · \(Self.counted(fusions, "fusion version")) · \(Self.counted(bases.count, "base model"))</p>
            <p class="hint">Pull with <code>quiver pull TASK --from \(e(remote))</code> · JSON at <a href="/api/adapters">/api/adapters</a></p>
            </header>
            <main>
            <section>
            <h2>Adapters and fusions</h2>

            """
        let words = query.words
        let matching = words.isEmpty ? artifacts : artifacts.filter { artifact in words.allSatisfy(Self.searchText(artifact).contains) }
        let pageCount = max(1, (matching.count + Self.pageSize - 1) / Self.pageSize)
        let page = min(query.page, pageCount)
        let shown = matching[min((page - 1) * Self.pageSize, matching.count)..<min(page * Self.pageSize, matching.count)]
        if artifacts.isEmpty {
            html += "<p class=\"empty\">No adapter yet. Publish one with <code>quiver push TASK --to \(e(remote))</code>.</p>\n"
        } else {
            html += """
                <form class="controls" method="get" action="/" role="search"><input id="search" name="q" type="search" value="\(e(query.text))" placeholder="Search: task, label, base, architecture, member…" aria-label="Search versions"> <span id="shown">\(shown.count) of \(shown.count)</span></form>

                """
            if matching.isEmpty {
                html += "<p class=\"empty\">No version matches “\(e(query.text))”.</p>\n"
            } else {
                let pager = pager(page: page, of: pageCount, shown: shown, matching: matching.count)
                html += pager + """
                    <table id="artifacts">
                    <thead><tr>\(Self.columns.map { "<th data-type=\"\($0.type)\" scope=\"col\"><button type=\"button\">\($0.title)</button></th>" }.joined())</tr></thead>
                    <tbody>

                    """
                var previousTask: String?
                for (index, artifact) in shown.enumerated() {
                    html += row(artifact, index: index, startsGroup: artifact.task != previousTask)
                    previousTask = artifact.task
                }
                html += "</tbody>\n</table>\n" + pager
            }
        }
        html += "</section>\n<section>\n<h2>Base models</h2>\n"
        if bases.isEmpty {
            html += "<p class=\"empty\">No base model yet.</p>\n"
        } else {
            html += "<table id=\"bases\">\n<thead><tr><th>Name</th><th>Type</th><th class=\"num\">Layers</th><th class=\"num\">Hidden</th><th class=\"num\">Parameters</th><th class=\"num\">Size</th><th class=\"num\">Stored</th><th>Digest</th></tr></thead>\n<tbody>\n"
            for base in bases {
                html += "<tr class=\"base\" data-name=\"\(e(base.name))\"><td class=\"name\">\(e(base.name))</td><td>\(e(base.modelType))</td>"
                html += "<td class=\"num\">\(base.layerCount)</td><td class=\"num\">\(base.hiddenSize)</td>"
                html += "<td class=\"num parameters\">\(DisplayFormat.count(base.parameters))</td><td class=\"num\">\(DisplayFormat.size(base.size))</td>"
                html += "<td class=\"num\">\(DisplayFormat.size(base.storedSize))</td><td><code title=\"\(e(base.digest))\">\(e(base.digest.prefix(19)))</code></td></tr>\n"
            }
            html += "</tbody>\n</table>\n"
        }
        html += "</section>\n</main>\n<script>\(Self.script)</script>\n</body>\n</html>\n"
        return html
    }

    // MARK: - Pages

    /// "Versions 101–200 of 10,000 · page 2 of 100" between links to the pages before and after.
    private func pager(page: Int, of pageCount: Int, shown: ArraySlice<ArtifactSummary>, matching: Int) -> String {
        let what = query.words.isEmpty ? "" : " matching “\(e(query.text))”"
        var nav = "<nav class=\"pager\" aria-label=\"Pages\">"
        if page > 1 { nav += "<a rel=\"prev\" href=\"\(e(link(page: page - 1)))\">← Previous</a> " }
        nav += "<span>Versions \(DisplayFormat.count(shown.startIndex + 1))–\(DisplayFormat.count(shown.endIndex)) of "
        nav += "\(DisplayFormat.count(matching))\(what) · page \(DisplayFormat.count(page)) of \(DisplayFormat.count(pageCount))</span>"
        if page < pageCount { nav += " <a rel=\"next\" href=\"\(e(link(page: page + 1)))\">Next →</a>" }
        return nav + "</nav>\n"
    }

    /// `/?page=N`, keeping the search.
    private func link(page: Int) -> String {
        query.text.isEmpty ? "/?page=\(page)" : "/?page=\(page)&q=\(QueryText.escape(query.text))"
    }

    // MARK: - Rows

    private static let columns: [(title: String, type: String)] = [
        ("Task", "text"), ("Version", "text"), ("Tags", "text"), ("Kind", "text"), ("Architecture", "text"),
        ("Parameters", "number"), ("Head parameters", "number"), ("Size", "number"), ("Stored", "number"),
        ("Base", "text"), ("Members", "text"), ("Created", "text"),
    ]

    /// What the search words are looked for in (lower-cased): the row's `data-search`, for the script's filter too.
    private static func searchText(_ artifact: ArtifactSummary) -> String {
        ([artifact.task, artifact.version, artifact.kind.rawValue, artifact.architecture.rawValue, artifact.base, artifact.description]
            + artifact.tags + artifact.labels + artifact.members).joined(separator: " ").lowercased()
    }

    private func row(_ artifact: ArtifactSummary, index: Int, startsGroup: Bool) -> String {
        let search = Self.searchText(artifact)
        let members = artifact.members.map { "<span class=\"member\">\(e($0))</span>" }.joined(separator: " ")
        let title = artifact.description.isEmpty ? "" : " title=\"\(e(artifact.description))\""
        var cells = "<td class=\"task\"\(title)>\(e(artifact.task))</td>"
        cells += "<td class=\"version\">\(e(artifact.version))</td>"
        cells += "<td class=\"tags\">\(e(artifact.tags.joined(separator: ", ")))</td>"
        cells += "<td class=\"kind\">\(e(artifact.kind.rawValue))</td>"
        let runs = artifact.engineNote.map { " <span class=\"stored-only\" title=\"\(e($0))\">stored only</span>" } ?? ""
        cells += "<td class=\"architecture\">\(e(artifact.architecture.rawValue))\(runs)</td>"
        cells += "<td class=\"num parameters\" data-value=\"\(artifact.parameters)\">\(DisplayFormat.count(artifact.parameters))</td>"
        cells += "<td class=\"num head-parameters\" data-value=\"\(artifact.headParameters)\">\(DisplayFormat.count(artifact.headParameters))</td>"
        cells += "<td class=\"num size\" data-value=\"\(artifact.size)\">\(DisplayFormat.size(artifact.size))</td>"
        cells += "<td class=\"num stored-size\" data-value=\"\(artifact.storedSize)\">\(DisplayFormat.size(artifact.storedSize))</td>"
        cells += "<td class=\"base\">\(e(artifact.base))</td>"
        cells += "<td class=\"members\">\(members)</td>"
        cells += "<td class=\"created\" data-value=\"\(DisplayFormat.isoDate(artifact.created))\"><time datetime=\"\(DisplayFormat.isoDate(artifact.created))\">\(DisplayFormat.date(artifact.created))</time></td>"
        let classes = "artifact " + artifact.kind.rawValue + (startsGroup ? " group-start" : "")
        return "<tr class=\"\(classes)\" data-task=\"\(e(artifact.task))\" data-version=\"\(e(artifact.version))\" data-index=\"\(index)\" data-search=\"\(e(search))\">\(cells)</tr>\n"
    }

    private func e(_ text: some StringProtocol) -> String { HTMLText.escape(text) }

    /// "1 task", "3 tasks".
    static func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

    // MARK: - Inline assets

    /// `sha256-<base64>` of an inline asset, for the Content-Security-Policy.
    static func hashSource(_ text: String) -> String {
        let hex = Array(Digest.of(Array(text.utf8)).hex.utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }
        let bytes = stride(from: 0, to: hex.count, by: 2).map { nibble(hex[$0]) << 4 | nibble(hex[$0 + 1]) }
        return "sha256-" + Data(bytes).base64EncodedString()
    }

    static let style = """
        :root{color-scheme:light dark;--line:#8884;--muted:#888;--accent:#2a6fdb}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1.5rem;max-width:1400px}
        h1{font-size:1.6rem;margin:0}h1 .namespace{color:var(--muted);font-weight:400}
        h2{font-size:1.15rem;margin:2rem 0 .6rem}
        .summary,.hint{margin:.3rem 0;color:var(--muted)}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
        table{border-collapse:collapse;width:100%}
        th,td{padding:.35rem .55rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
        th button{all:unset;cursor:pointer;font-weight:600}th button:focus-visible{outline:2px solid var(--accent)}
        th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
        td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        th[data-type=number],th.num{text-align:right}#bases{width:auto}
        tr.group-start td{border-top:2px solid var(--line)}
        tr.fusion td.kind{color:var(--accent);font-weight:600}
        .member{display:inline-block;padding:0 .4rem;border:1px solid var(--line);border-radius:.6rem;margin:0 .2rem .2rem 0}
        #search{width:min(32rem,100%);padding:.4rem .6rem;font:inherit}
        .controls{margin:1em 0}.pager{margin:.6rem 0;color:var(--muted)}.pager a{color:var(--accent)}
        #shown{color:var(--muted);margin-left:.5rem}
        .empty{color:var(--muted)}
        """

    static let script = """
        (function () {
          var table = document.getElementById("artifacts");
          if (table) {
            var body = table.tBodies[0];
            var rows = Array.prototype.slice.call(body.rows);
            var search = document.getElementById("search");
            var shown = document.getElementById("shown");
            var filter = function () {
              var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
              var count = 0;
              rows.forEach(function (row) {
                var text = row.getAttribute("data-search");
                var visible = words.every(function (word) { return text.indexOf(word) >= 0; });
                row.hidden = !visible;
                if (visible) { count += 1; }
              });
              shown.textContent = count + " of " + rows.length;
            };
            var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
            headers.forEach(function (header, column) {
              header.querySelector("button").addEventListener("click", function () {
                var descending = header.getAttribute("aria-sort") === "ascending";
                var numeric = header.getAttribute("data-type") === "number";
                headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
                header.setAttribute("aria-sort", descending ? "descending" : "ascending");
                var key = function (row) {
                  var cell = row.cells[column];
                  return cell.getAttribute("data-value") || cell.textContent;
                };
                rows.sort(function (a, b) {
                  var x = key(a), y = key(b);
                  var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
                  if (order === 0) { order = Number(a.getAttribute("data-index")) - Number(b.getAttribute("data-index")); }
                  return descending ? -order : order;
                });
                rows.forEach(function (row) { body.appendChild(row); });
              });
            });
            search.addEventListener("input", filter);
            filter();
          }
          document.body.setAttribute("data-ready", "true");
        })();
        """
}
