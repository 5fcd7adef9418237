# The four byte reads side by side on SwiftShader, the 784-500-10 step at batch 128, order alternating by round.
# Needs the temporary switch of read-forms.patch applied to shaders/portableMath.ts (PIXREAD picks the form):
#   O unpack4x8unorm·255 (the old read's cost; not exact on SwiftShader)  C shifts, the committed read
#   M a multiply and one shift               X unpack4x8unorm·255 + 1.5·2²³, the byte from its bits
cd "$(dirname "$0")/../../.."
for r in 1 2 3 4; do
  order="O X C M"; [ $((r % 2)) -eq 0 ] && order="M C X O"
  for f in $order; do
    row=$(PIXREAD=$f npm run -s bench -- --adapter swiftshader --only throughput --batch-size 128 --steps 60 2>&1 | grep -E '^128 +1 +none')
    echo "round $r $f: $row"
  done
done
