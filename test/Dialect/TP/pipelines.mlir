// The registered pipelines (Pipelines.h): tp-package-pipeline is
// tp-parametrize, tp-instantiate and tp-assign-layout, tp-report-pipeline
// tp-parametrize, tp-instantiate and tp-print-report, each with the options
// declared once for muir-opt and muirc.
//
// The package pipeline writes exactly what the three passes write.
// RUN: muir-opt %s --tp-package-pipeline='scheme=completep lr=0.01 alignment=128' > %t.pipeline.mlir
// RUN: muir-opt %s --tp-parametrize=scheme=completep --tp-instantiate=lr=0.01 --tp-assign-layout=alignment=128 > %t.passes.mlir
// RUN: diff %t.pipeline.mlir %t.passes.mlir
// RUN: FileCheck %s --input-file=%t.pipeline.mlir --check-prefix=PACKAGE
// CompleteP at m_N = 32/8 = 4, m_L = 8/2 = 4 (CompleteP Table 1, AdamW, by
// hand): a hidden weight's init std 0.02 m_N^-1/2 = 0.01, lr 0.01 m_N^-1 =
// 0.0025, eps 1e-8 m_N^-1 m_L^-1 = 6.25e-10; the branch multiplier
// m_L^-1 = 0.25. Eight copies of 32 x 32 in 128-byte steps: 8192 elements.
// PACKAGE: tp.model @m attributes {tp.buffer = #tp.buffer<elements = 8192, alignment = 128>
// PACKAGE: tp.param "w" normal {tp.layout = #tp.layout<offset = 0, stride = 1024, numel = 1024, copies = 8>
// PACKAGE-SAME: tp.values = #tp.values<init_std = [1.000000e-02], multiplier = [1.000000e+00], lr = [2.500000e-03], weight_decay = [0.000000e+00], eps = [6.250000e-10]
// PACKAGE: tp.residual {{.*}}tp.values = #tp.values<multiplier = [2.500000e-01]>

// The report pipeline prints what the passes and muirc report print.
// RUN: muir-opt %s --tp-report-pipeline='lr=0.01 format=csv' -o /dev/null > %t.pipeline.csv
// RUN: muir-opt %s --tp-parametrize --tp-instantiate=lr=0.01 --tp-print-report=format=csv -o /dev/null > %t.passes.csv
// RUN: muirc report %s --lr 0.01 --format csv > %t.muirc.csv
// RUN: diff %t.pipeline.csv %t.passes.csv
// RUN: diff %t.pipeline.csv %t.muirc.csv
// RUN: FileCheck %s --input-file=%t.pipeline.csv --check-prefix=REPORT
// REPORT: w,,hidden,"[32, 32]","[8, 8]",normal,0.01,1,0.0025,0,6.25e-10,0.9,0.999,N^-1/2,1,N^-1,N^1,N^-1 L^-1,1,1

// muir-opt --help lists each pipeline with its options.
// RUN: muir-opt --help | FileCheck %s --check-prefix=HELP
// HELP: --tp-package-pipeline {{.*}}tp-parametrize, tp-instantiate, tp-assign-layout
// HELP-NEXT: --alignment=<bytes> {{.*}}(default 64, a cache line)
// HELP: --scheme=<value> {{.*}}(default completep)
// HELP: --tp-report-pipeline {{.*}}tp-parametrize, tp-instantiate, tp-print-report
// HELP: --format=<value> {{.*}}table, markdown, json or csv (default table)

// A bad value is the option parser's error, listing the valid ones; an
// option of the other pipeline is unknown; values out of range are the
// passes' errors at the model.
// RUN: not muir-opt %s --tp-package-pipeline='scheme=mu-p' 2>&1 | FileCheck %s --check-prefix=SCHEME
// SCHEME: for the --scheme option: unknown value 'mu-p'; expected sp, sp-pytorch, mup, mup-table8, mup-table9, depth-mup, completep or completedp
// RUN: not muir-opt %s --tp-report-pipeline='format=yaml' 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: for the --format option: unknown value 'yaml'; expected table, markdown, json or csv
// RUN: not muir-opt %s --tp-report-pipeline='alignment=64' 2>&1 | FileCheck %s --check-prefix=OTHER
// OTHER: no such option alignment
// RUN: not muir-opt %s --tp-package-pipeline='lr=abc' 2>&1 | FileCheck %s --check-prefix=NUMBER
// NUMBER: for the --lr option: 'abc' value invalid for floating point argument
// RUN: not muir-opt %s --tp-package-pipeline='alignment=8' 2>&1 | FileCheck %s --check-prefix=ALIGNMENT
// ALIGNMENT: pipelines.mlir:[[@LINE+4]]:1: error: alignment must be a positive multiple of 16 bytes (one 128-bit vector), got 8
// RUN: not muir-opt %s --tp-report-pipeline='lr=0' 2>&1 | FileCheck %s --check-prefix=LR
// LR: pipelines.mlir:[[@LINE+2]]:1: error: lr must be positive, got 0

tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 8>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.residual %h, %f : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}
