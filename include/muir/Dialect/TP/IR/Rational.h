//===- Rational.h - Exact rational exponents --------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_RATIONAL_H
#define MUIR_DIALECT_TP_IR_RATIONAL_H

#include "llvm/ADT/Hashing.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>

namespace mlir::tp {

/// An exact rational number num/den in lowest terms with den > 0. Scaling
/// exponents are rationals (1/2, α−1 = -1/2, ...) and must compare exactly.
struct Rational {
  int64_t num = 0, den = 1;

  Rational() = default;
  Rational(int64_t n, int64_t d = 1) : num(n), den(d) { normalize(); }

  bool isZero() const { return num == 0; }
  double toDouble() const { return double(num) / double(den); }
  /// `-1/2`, `3`, `0`.
  std::string str() const {
    return den == 1 ? std::to_string(num)
                    : std::to_string(num) + "/" + std::to_string(den);
  }

  Rational operator+(Rational o) const {
    return Rational(num * o.den + o.num * den, den * o.den);
  }
  Rational operator-() const { return Rational(-num, den); }
  Rational operator-(Rational o) const { return *this + (-o); }
  Rational operator*(Rational o) const {
    return Rational(num * o.num, den * o.den);
  }
  bool operator==(const Rational &o) const {
    return num == o.num && den == o.den;
  }
  bool operator!=(const Rational &o) const { return !(*this == o); }

private:
  void normalize() {
    if (den < 0) {
      num = -num;
      den = -den;
    }
    int64_t g = std::gcd(num, den);
    if (g > 1) {
      num /= g;
      den /= g;
    }
  }
};

inline llvm::hash_code hash_value(const Rational &r) {
  return llvm::hash_combine(r.num, r.den);
}
inline llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const Rational &r) {
  return os << r.str();
}

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_IR_RATIONAL_H
