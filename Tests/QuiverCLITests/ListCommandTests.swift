import Foundation
import QuiverHub
import Testing

/// `quiver list` prints what it printed before its table was made fast: the columns of the JSON it also prints, padded
/// to the widest cell as `padding(toLength:)` padded them (`DisplayFormatTests` hold the numbers and dates to the
/// formatters they replace).
@Suite struct ListCommandTests {
    @Test func tableOfASmallRegistry() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("sample", cli.folder + "/samples")
        try cli.run("base", "add", cli.folder + "/samples/tiny-bert")
        for (reference, sample) in [("sentiment", "sentiment"), ("topic:v2", "topic"), ("paraphrase", "paraphrase-peft")] {
            #expect(try cli.run("push", reference, cli.folder + "/samples/" + sample).status == 0)
        }
        let fused = try cli.run("fuse", "sentiment,topic:v2", "--as", "review", "--from", cli.folder + "/samples/review-fusion")
        #expect(fused.status == 0, "\(fused.stderr)")

        let entries = try JSONSerialization.jsonObject(with: Data(try cli.run("list", "--json").stdout.utf8)) as! [[String: Any]]
        #expect(entries.map { $0["task"] as! String } == ["paraphrase", "review", "sentiment", "topic"])
        let rows = entries.map { entry in
            let tags = entry["tags"] as! [String], members = entry["members"] as! [String]
            return [
                entry["task"] as! String,
                (entry["version"] as! String) + (tags.isEmpty ? "" : " (\(tags.joined(separator: ",")))"),
                (entry["kind"] as! String) + (members.isEmpty ? "" : "[\(members.joined(separator: ","))]"),
                entry["architecture"] as! String, entry["runnable"] as! Bool ? "yes" : "no",
                DisplayFormat.count(entry["parameters"] as! Int), DisplayFormat.count(entry["head_parameters"] as! Int),
                DisplayFormat.size(entry["size"] as! Int), DisplayFormat.size(entry["stored_size"] as! Int), entry["base"] as! String,
                DisplayFormat.date(ISO8601DateFormatter().date(from: entry["created"] as! String)!),
            ]
        }
        let header = ["TASK", "VERSION", "KIND", "ARCHITECTURE", "RUNS", "PARAMETERS", "HEAD", "SIZE", "STORED", "BASE", "CREATED"]
        #expect(try cli.run("list").stdout == Self.table(header, rows) + "\n")
        #expect(rows[1][2] == "fusion[sentiment:1,topic:v2]" && rows[3][1] == "v2 (latest)")
    }

    /// The table as it was made with `padding(toLength:)`.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
