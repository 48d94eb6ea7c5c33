# Builds the `mlir-doc` target and checks what it generated: ctest runs this
# as the `mlir-doc` test (see docs/CMakeLists.txt), so a TableGen record that
# breaks the doc generator, or an op without a summary, fails the suite.
#
#   cmake -DBUILD_DIR=<build> -P docs/CheckDocs.cmake

if(NOT BUILD_DIR)
  message(FATAL_ERROR "usage: cmake -DBUILD_DIR=<build> -P CheckDocs.cmake")
endif()

execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target mlir-doc
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building mlir-doc failed (${rc})")
endif()

# file -> a string it must contain
set(expected
  "TP/TPDialect.md|# 'tp' Dialect"
  "TP/TPPasses.md|-tp-print-params"
  "TP/TPInterfaces.md|ParamUseOpInterface"
  "TP/TPEnums.md|ReportFormat")
foreach(entry IN LISTS expected)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 file)
  list(GET parts 1 needle)
  set(path ${BUILD_DIR}/docs/${file})
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "mlir-doc did not generate ${path}")
  endif()
  file(READ ${path} text)
  string(FIND "${text}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${path} does not contain \"${needle}\"")
  endif()
  message(STATUS "ok: ${path}")
endforeach()

# Every op section opens with its one-line summary in italics:
#   ### `tp.linear` (tp::LinearOp)
#   <blank>
#   _Affine map y = x W^T + b over the last dimension_
file(STRINGS ${BUILD_DIR}/docs/TP/TPDialect.md lines)
set(op "")
set(missing "")
set(count 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^### `(tp\\.[a-z_.]+)`")
    if(op)
      list(APPEND missing ${op})
    endif()
    set(op ${CMAKE_MATCH_1})
    math(EXPR count "${count} + 1")
  elseif(op AND line MATCHES "^_.+_$")
    set(op "")
  elseif(op AND NOT line STREQUAL "")
    list(APPEND missing ${op})
    set(op "")
  endif()
endforeach()
if(op)
  list(APPEND missing ${op})
endif()
if(count EQUAL 0)
  message(FATAL_ERROR "no op sections in TPDialect.md")
endif()
if(missing)
  list(JOIN missing ", " missing)
  message(FATAL_ERROR "ops without a summary in TPDialect.md: ${missing}")
endif()
message(STATUS "ok: ${count} ops documented, each with a summary")
