import Foundation
import QuiverTensor

/// What the head keeps for backward.
struct HeadTape {
    /// Per layer: its input after dropout (items, inFeatures) and its output (items, outFeatures).
    let inputs: [UnsafePointer<Float>]
    let outputs: [UnsafePointer<Float>]
    /// Per layer but the last: the activation's output (the next layer's input before dropout).
    let activated: [UnsafePointer<Float>]
}

extension TrainingPass {
    /// Logits (items, labels) from the [CLS] rows of the last hidden states (rows, hidden).
    func headForward(_ states: UnsafePointer<Float>) -> (logits: UnsafePointer<Float>, tape: HeadTape) {
        let head = network.head
        let n = items.count
        var x = arena.take(n * hidden)
        for item in 0..<n { (x + item * hidden).update(from: states + firstRow(of: items.lowerBound + item) * hidden, count: hidden) }
        var inputs: [UnsafePointer<Float>] = [], outputs: [UnsafePointer<Float>] = []
        var activated: [UnsafePointer<Float>] = []
        for (index, layer) in head.layers.enumerated() {
            if head.dropoutBefore[index], let mask = context.dropout.mask(.head(layer: index), \.head) {
                let dropped = arena.copy(x, count: n * layer.inFeatures)
                mask.apply(dropped, count: n * layer.inFeatures, firstIndex: items.lowerBound * layer.inFeatures)
                x = dropped
            }
            let output = arena.take(n * layer.outFeatures)
            layer.forward(x, into: output, rows: n)
            inputs.append(UnsafePointer(x))
            outputs.append(UnsafePointer(output))
            if index < head.layers.count - 1 {
                x = arena.take(n * layer.outFeatures)
                head.activation.apply(output, into: x, count: n * layer.outFeatures)
                activated.append(UnsafePointer(x))
            }
        }
        return (outputs.last!, HeadTape(inputs: inputs, outputs: outputs, activated: activated))
    }

    /// Backward of `headForward` from the logits' gradient: the head's gradients, and the gradient of the last
    /// hidden states (rows, hidden; zero but on the [CLS] rows) when `needsStatesGradient`.
    func headBackward(_ tape: HeadTape, logitsGradient: UnsafePointer<Float>, needsStatesGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        let head = network.head
        let n = items.count
        var outputGradient = logitsGradient
        var clsGradient: UnsafeMutablePointer<Float>?
        for index in stride(from: head.layers.count - 1, through: 0, by: -1) {
            let layer = head.layers[index]
            let needsInput = index > 0 || needsStatesGradient
            let inputGradient = needsInput ? arena.zeros(n * layer.inFeatures) : nil
            layer.backward(
                input: tape.inputs[index], outputGradient: outputGradient, inputGradient: inputGradient, rows: n,
                sink: context.sink)
            guard let inputGradient else { break }
            if head.dropoutBefore[index], let mask = context.dropout.mask(.head(layer: index), \.head) {
                mask.apply(inputGradient, count: n * layer.inFeatures, firstIndex: items.lowerBound * layer.inFeatures)
            }
            if index == 0 {
                clsGradient = inputGradient
            } else {
                let previous = arena.zeros(n * layer.inFeatures)
                head.activation.backward(
                    input: tape.outputs[index - 1], output: tape.activated[index - 1], outputGradient: inputGradient,
                    inputGradient: previous, count: n * layer.inFeatures)
                outputGradient = UnsafePointer(previous)
            }
        }
        guard let clsGradient else { return nil }
        let statesGradient = arena.zeros(rows * hidden)
        for item in 0..<n {
            (statesGradient + firstRow(of: items.lowerBound + item) * hidden).update(from: clsGradient + item * hidden, count: hidden)
        }
        return statesGradient
    }
}

/// Mean cross-entropy over a batch, `−log softmax(logits)[label]`, the loss the `adapters` heads compute.
enum CrossEntropy {
    /// The sum of the items' losses (in Double), and `gradient = (softmax(logits) − onehot(label)) / batch`.
    static func forwardBackward(
        logits: UnsafePointer<Float>,  // logits is (items, classes)
        labels: ArraySlice<Int>, classes: Int, batch: Int,
        gradient: UnsafeMutablePointer<Float>  // gradient is (items, classes)
    ) -> Double {
        var total = 0.0
        for (item, label) in labels.enumerated() {
            let row = logits + item * classes
            var maximum = -Double.infinity
            for c in 0..<classes { maximum = max(maximum, Double(row[c])) }
            var sum = 0.0
            for c in 0..<classes { sum += Foundation.exp(Double(row[c]) - maximum) }
            let logSum = maximum + Foundation.log(sum)
            total += logSum - Double(row[label])
            for c in 0..<classes {
                let probability = Foundation.exp(Double(row[c]) - logSum)
                gradient[item * classes + c] = Float((probability - (c == label ? 1 : 0)) / Double(batch))
            }
        }
        return total
    }
}

// MARK: - Tensor names written

extension TensorNaming {
    static func head(_ name: String, layer: Int, _ parameter: String) -> String {
        // nn.Sequential(Dropout, Linear, Activation, Dropout, Linear, …): Linear k is module 3k + 1.
        "heads.\(name).\(3 * layer + 1).\(parameter)"
    }
}
