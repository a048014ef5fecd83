// quorum-bench: release-mode benchmarks for Quorum. Each subcommand prints one
// JSON object on stdout; experiments/bench.py runs the peers and the ratios.
//
//   quorum-bench import --file F [--kind pool] [--repeats N] [--workdir DIR] [--database postgresql://…]
//   quorum-bench parse --file F [--repeats N]      (reader only: no hashing, no SQLite)
//   quorum-bench gemm [--n 2048] [--repeats 5]
//   quorum-bench digits --data F [--repeats 5] [--max-iter N]
import Glibc
import QuorumNumerics

// OpenBLAS reads OPENBLAS_CORETYPE when it loads: pick the best kernel for this
// CPU (unless the caller set one) and re-execute before any BLAS call.
BLASRuntime.prepareEnvironment()

let usage = """
    usage: quorum-bench import --file FILE [--kind pool|seed|test|gold] [--repeats N] [--workdir DIR] [--database URL]
           quorum-bench parse --file FILE [--repeats N]
           quorum-bench gemm [--n N] [--repeats N]
           quorum-bench digits --data FILE [--repeats N] [--max-iter N] [--members M]
           quorum-bench multilabel --data FILE.jsonl [--members M]
           quorum-bench training [--data DIR] [--members 5] [--repeats 3]
           quorum-bench kcenter [--data DIR] [--d 128] [--k 1000] [--repeats 2] [--kmeans-repeats 1] [--centers M]
           quorum-bench dawid-skene [--data DIR] [--repeats 3]
           quorum-bench label-latency [--pool 1000000] [--round 5000] [--cycles 2000] [--worker-pause-ms 50] [--workdir DIR] [--database URL]
           quorum-bench scoring [--data DIR] [--members 5] [--items 1000000] [--classes 20] [--repeats 3] [--chunk 16384]
    """

let arguments = Array(CommandLine.arguments.dropFirst())
guard let subcommand = arguments.first else {
    printErr(usage)
    exit(2)
}

do {
    let options = try BenchOptions(Array(arguments.dropFirst()))
    let result: JSONOut
    switch subcommand {
    case "import": result = try ImportBench.run(options)
    case "parse": result = try ImportBench.parseOnly(options)
    case "gemm": result = try GEMMBench.run(options)
    case "digits": result = try DigitsBench.run(options)
    case "multilabel": result = try MultiLabelBench.run(options)
    case "scoring": result = try ScoringBench.run(options)
    case "training": result = try TrainingBench.run(options)
    case "kcenter": result = try KCenterBench.run(options)
    case "dawid-skene": result = try DawidSkeneBench.run(options)
    case "label-latency": result = try LabelLatencyBench.run(options)
    case "-h", "--help", "help":
        print(usage)
        exit(0)
    default:
        printErr("quorum-bench: unknown benchmark \"\(subcommand)\"\n\(usage)")
        exit(2)
    }
    print(result.serialized())
} catch let error as BenchUsageError {
    printErr("quorum-bench: \(error.message)\n\(usage)")
    exit(2)
} catch {
    printErr("quorum-bench: \(error)")
    exit(1)
}
