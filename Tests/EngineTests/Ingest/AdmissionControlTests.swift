import Engine
import Testing

@Suite struct AdmissionControlTests {
    private func shareShed(_ control: inout AdmissionControl, draws: Int = 10_000) -> Double {
        var shed = 0
        for _ in 0..<draws where !control.admit() { shed += 1 }
        return Double(shed) / Double(draws)
    }

    @Test func admitsEverythingBelowTarget() {
        var control = AdmissionControl()
        for _ in 0..<1000 { control.update(delay: 0.001) }
        #expect(control.shedShare == 0)
        #expect(shareShed(&control) == 0)
    }

    @Test func shedsInProportionToExcessDelayAndRecovers() {
        var control = AdmissionControl(configuration: .init(target: 0.005))
        control.update(delay: 0.010)
        let first = control.shedShare
        #expect(first > 0 && first < 0.5)
        for _ in 0..<10 { control.update(delay: 0.010) }
        #expect(control.shedShare > first)
        let measured = shareShed(&control)
        #expect(abs(measured - control.shedShare) < 0.03)
        // Back below half the target, the share decays to zero.
        for _ in 0..<200 { control.update(delay: 0.0005) }
        #expect(control.shedShare == 0)
    }

    @Test func holdsBetweenHalfTargetAndTarget() {
        var control = AdmissionControl(configuration: .init(target: 0.005))
        for _ in 0..<5 { control.update(delay: 0.015) }
        let share = control.shedShare
        for _ in 0..<50 { control.update(delay: 0.004) }
        #expect(control.shedShare == share)
    }

    @Test func hardLimitShedsTheMaximumAtOnceButNeverEverything() {
        var control = AdmissionControl(configuration: .init(target: 0.005, maximumShare: 0.95, hardLimitFactor: 8))
        control.update(delay: 0.050)
        #expect(control.shedShare == 0.95)
        let measured = shareShed(&control)
        #expect(measured > 0.9 && measured < 1)
    }

    @Test func zeroTargetTurnsSheddingOff() {
        var control = AdmissionControl(configuration: .init(target: 0))
        for _ in 0..<100 { control.update(delay: 10) }
        #expect(control.shedShare == 0)
        #expect(shareShed(&control, draws: 100) == 0)
    }
}

@Suite struct AdmissionControlIntervalTests {
    @Test func oneLateProbeInAnIntervalShedsNothing() {
        var control = AdmissionControl(configuration: .init(target: 0.005, samplesPerUpdate: 10))
        for round in 0..<100 {
            for sample in 0..<10 { control.observe(delay: sample == round % 10 ? 0.050 : 0.0002) }
        }
        #expect(control.shedShare == 0)
    }

    @Test func aStandingDelayShedsWithinAFewIntervals() {
        var control = AdmissionControl(configuration: .init(target: 0.005, samplesPerUpdate: 10))
        for _ in 0..<30 { control.observe(delay: 0.012) }
        #expect(control.shedShare > 0.2)
    }
}
