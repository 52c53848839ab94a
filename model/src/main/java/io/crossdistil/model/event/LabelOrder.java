package io.crossdistil.model.event;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Label permutations and the fine-grained orders the teachers learn.
 *
 * <p>With K tasks in priority order (task 0 first) an event's labels form a K-bit number, task 0
 * the most significant bit; this number is its <em>permutation</em> and indexes its reservoir.
 * For K = 2: 3 = ++, 2 = +-, 1 = -+, 0 = --.
 *
 * <p><b>Teacher order of task k.</b> Permutations are sorted, best first, by the key (y_k, then
 * the other tasks' labels in priority order). For K = 2 this gives the published orders: teacher
 * A learns ++ > +- > -+ > --, teacher B learns ++ > -+ > +- > --. For K = 3, teacher B learns
 * +++ > ++- > -++ > -+- > +-+ > +-- > --+ > --- (y_B first, then y_A, then y_C).
 *
 * <p><b>Auxiliary pairs.</b> The first half of the order holds the task's positives, the second
 * half its negatives. Each adjacent pair inside the positives is an auxiliary ranking term with
 * weight beta1, each adjacent pair inside the negatives one with weight beta2: 2^(K-1) - 1 pairs
 * per side. For K = 2 that is exactly the two quadruplet terms of the published teacher losses. No pair
 * ever crosses the task's own label, so a positive of the task is never ranked below a negative
 * ("only positive knowledge is transferred").
 *
 * <p><b>Tuples.</b> A quadruplet generalises to a 2^K-tuple: one event from each permutation's
 * reservoir. <b>Marginal sets</b> of task k are the unions of the permutations with y_k = 1 and
 * with y_k = 0.
 */
public final class LabelOrder {

    /** One auxiliary ranking term: {@code higher} must score above {@code lower}. */
    public record Pair(int higher, int lower, boolean insidePositives) {}

    private LabelOrder() {}

    public static int label(int permutation, int task, int numTasks) {
        return (permutation >> (numTasks - 1 - task)) & 1;
    }

    public static int permutation(int[] labels) {
        int p = 0;
        for (int y : labels) {
            p = (p << 1) | (y & 1);
        }
        return p;
    }

    /** The 2^K permutations, best first, in the order teacher {@code task} learns. */
    public static int[] teacherOrder(int task, int numTasks) {
        Integer[] perms = new Integer[1 << numTasks];
        for (int p = 0; p < perms.length; p++) {
            perms[p] = p;
        }
        Arrays.sort(perms, Comparator.comparingInt((Integer p) -> sortKey(p, task, numTasks)).reversed());
        return Arrays.stream(perms).mapToInt(Integer::intValue).toArray();
    }

    private static int sortKey(int perm, int task, int numTasks) {
        int key = label(perm, task, numTasks);
        for (int other = 0; other < numTasks; other++) {
            if (other != task) {
                key = (key << 1) | label(perm, other, numTasks);
            }
        }
        return key;
    }

    /** The auxiliary ranking pairs of teacher {@code task}: adjacent pairs inside each half of its order. */
    public static List<Pair> auxiliaryPairs(int task, int numTasks) {
        int[] order = teacherOrder(task, numTasks);
        int half = order.length / 2;
        List<Pair> pairs = new ArrayList<>();
        for (int i = 0; i + 1 < half; i++) {
            pairs.add(new Pair(order[i], order[i + 1], true));
        }
        for (int i = half; i + 1 < order.length; i++) {
            pairs.add(new Pair(order[i], order[i + 1], false));
        }
        return pairs;
    }

    /** Permutations in which task {@code task} has label {@code y}. */
    public static int[] withLabel(int task, int y, int numTasks) {
        return java.util.stream.IntStream.range(0, 1 << numTasks)
                .filter(p -> label(p, task, numTasks) == y).toArray();
    }

    /** Human-readable name of a permutation, for example "+-". */
    public static String name(int permutation, int numTasks) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < numTasks; k++) {
            b.append(label(permutation, k, numTasks) == 1 ? '+' : '-');
        }
        return b.toString();
    }
}
