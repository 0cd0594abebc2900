import PitIngest
import Testing

@Suite struct InflightBudgetTests {
    @Test func reservationsStopAtTheLimitAndComeBack() {
        let budget = InflightBudget(limit: 1000)
        #expect(budget.reserve(600))
        #expect(!budget.reserve(500))  // refused, and nothing taken
        #expect(budget.inUse == 600)
        #expect(budget.reserve(400))  // exactly the limit fits
        #expect(budget.available == 0)
        #expect(budget.reserve(0))
        budget.release(600)
        #expect(budget.inUse == 400 && budget.available == 600)
        budget.release(400)
        #expect(budget.inUse == 0)
    }
}
