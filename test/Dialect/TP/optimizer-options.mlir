// Optimizer options (docs/Optimizers.md): tp-parametrize records every
// option of the family, defaults filled in; a bad spec or a bad recorded
// #tp.parametrization is an error naming the part and what is accepted.
// RUN: muir-opt %s --tp-parametrize='scheme=mup optimizer=adamw' | FileCheck %s --check-prefix=ADAMW
// RUN: muir-opt %s --tp-parametrize='scheme=mup optimizer=adamw:bias-correction1=false' | FileCheck %s --check-prefix=NOBC1
// RUN: muir-opt %s --tp-parametrize='scheme=mup optimizer=lion:recipe' | FileCheck %s --check-prefix=RECIPE
// RUN: muir-opt %s --tp-parametrize='scheme=mup optimizer=lion:nesterov,beta=0.95' | FileCheck %s --check-prefix=BETA
// RUN: muir-opt %s --tp-parametrize='scheme=mup optimizer=sgd' | FileCheck %s --check-prefix=NONE
// RUN: not muir-opt %s --tp-parametrize='optimizer=adamw:' 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion:recipe,' 2>&1 | FileCheck %s --check-prefix=TRAILING
// RUN: not muir-opt %s --tp-parametrize='optimizer=adamw:nesterov' 2>&1 | FileCheck %s --check-prefix=NOKEY
// RUN: not muir-opt %s --tp-parametrize='optimizer=sgd:recipe' 2>&1 | FileCheck %s --check-prefix=NOOPTS
// RUN: not muir-opt %s --tp-parametrize='optimizer=adamw:bias-correction1=maybe' 2>&1 | FileCheck %s --check-prefix=BOOL
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion:nesterov,beta=1' 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion:nesterov,nesterov=false' 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion-ar:rho' 2>&1 | FileCheck %s --check-prefix=VALUE
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion-ar:units=column' 2>&1 | FileCheck %s --check-prefix=UNITS
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion-ar:angle=fixed' 2>&1 | FileCheck %s --check-prefix=ANGLE
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion:beta=0.9' 2>&1 | FileCheck %s --check-prefix=ONEBETA
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion-a:units=row' 2>&1 | FileCheck %s --check-prefix=LIONA
// RUN: not muir-opt %s --tp-parametrize='optimizer=lion-a:rms=-1' 2>&1 | FileCheck %s --check-prefix=RMS
// RUN: muir-opt %s --tp-parametrize='scheme=mup optimizer=lion-a:recipe,rms=0.2' | FileCheck %s --check-prefix=LIONARECIPE
// A recorded #tp.parametrization is read back as strictly.
// RUN: not muir-opt %s --split-input-file --tp-instantiate 2>&1 | FileCheck %s --check-prefix=READ

// ADAMW: optimizer = adamw, alpha = 1, steps = <1>, bias_correction1 = true>
// NOBC1: optimizer = adamw, alpha = 1, steps = <1>, bias_correction1 = false>
// RECIPE: optimizer = lion, alpha = 1, steps = <1>, nesterov = true, beta = 0.97999999999999998, inverse_bias_correction = true>
// BETA: optimizer = lion, alpha = 1, steps = <1>, nesterov = true, beta = 0.94999999999999996, inverse_bias_correction = false>
// NONE: tp.parametrization = #tp.parametrization<scheme = mup, optimizer = sgd, alpha = 1, steps = <1>>
// NONE-NOT: bias_correction1
// EMPTY: error: optimizer 'adamw:': no option after ':'
// TRAILING: error: optimizer 'lion:recipe,': an empty option (a comma at either end of the list, or two in a row)
// NOKEY: error: optimizer 'adamw:nesterov': 'adamw' has no option 'nesterov' (it has bias-correction1)
// NOOPTS: error: optimizer 'sgd:recipe': 'sgd' has no option 'recipe' (it has none)
// BOOL: error: optimizer 'adamw:bias-correction1=maybe': option 'bias-correction1' takes true or false, not 'maybe'
// RANGE: error: optimizer 'lion:nesterov,beta=1': option 'beta' takes a number in (0, 1), not '1'
// TWICE: error: optimizer 'lion:nesterov,nesterov=false': option 'nesterov' is given twice
// VALUE: error: optimizer 'lion-ar:rho': option 'rho' needs a value (rho=...)
// UNITS: error: optimizer 'lion-ar:units=column': option 'units' takes row or tensor, not 'column'
// ANGLE: error: optimizer 'lion-ar:angle=fixed': option 'angle' takes equilibrium or lr, not 'fixed'
// LIONA: error: optimizer 'lion-a:units=row': 'lion-a' has no option 'units' (it has nesterov, beta, inverse-bias-correction, rms, recipe)
// RMS: error: optimizer 'lion-a:rms=-1': option 'rms' takes a number 0 (AdamW's equilibrium RMS) or positive, not '-1'
// LIONARECIPE: optimizer = "lion-a", alpha = 1, steps = <1>, nesterov = true, beta = 0.97999999999999998, inverse_bias_correction = true, rms = 2.000000e-01>
// ONEBETA: error: optimizer 'lion:beta=0.9': 'beta' is the one beta of the momentum recipe; add 'nesterov' or 'recipe' (without them Lion's betas are beta1 and beta2)
tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// READ: error: tp.parametrization: 'lion:rho=0.90000000000000002': 'lion' has no option 'rho' (it has nesterov, beta, inverse-bias-correction, recipe)
tp.model @other_family attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion", alpha = 1, rho = 0.9>} {
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[d], f32>
  tp.output %x : !tp.tensor<[d], f32>
}

// -----

// READ: error: tp.parametrization: 'lion:nesterov=true,beta=1.5': option 'beta' takes a number in (0, 1), not '1.5'
tp.model @out_of_range attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion", alpha = 1, nesterov = true, beta = 1.5>} {
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[d], f32>
  tp.output %x : !tp.tensor<[d], f32>
}
